/*
 * cql_shell.h — private to src/cql: the pure parts of `spate cqlsh`
 * (cql_shell.c), exposed for tests. The shell itself is in cql.h.
 */
#ifndef SPATE_CQL_SHELL_H
#define SPATE_CQL_SHELL_H

#include "cql.h"

/* Where the first statement of text[0..len) ends, just past its ';'
 * (0: no complete statement). Pure. */
size_t cql_shell_split(const char *text, size_t len);

#endif /* SPATE_CQL_SHELL_H */
