/*
 * source_randomuser_data.h — the word lists behind spate randomuser
 * (private to src/source).
 *
 * One spate_ru_nat_t per nationality of the randomuser.me 1.4 API, in
 * alphabetical order of code (AU BR CA CH DE DK ES FI FR GB IE IN IR MX NL
 * NO NZ RS TR UA US), plus the lists shared by all of them. The lists were
 * written for this project; the facts they follow (which fields exist,
 * which nationalities have string postcodes, which national id each uses)
 * are in shared/reference/seed-reference.md §6.
 *
 * Name entries are UTF-8. An entry in a script that does not fold to ASCII
 * (Cyrillic, Persian) carries its Latin transliteration after a '|':
 * "Ярослав|Yaroslav". The generator shows the part before '|' and builds
 * e-mail addresses from the part after it (or from the accent-folded name
 * when there is no '|').
 *
 * Patterns (postcode, phone, cell, id) are literal text with these codes:
 *
 *   #      a digit 0-9           @      a digit 1-9
 *   ^      a letter A-Z
 *   {DD} {MM} {YY} {YYYY}        day, month, year of the date of birth
 *   {G}    1 for male, 2 for female
 */
#ifndef SPATE_SOURCE_RANDOMUSER_DATA_H
#define SPATE_SOURCE_RANDOMUSER_DATA_H

#include <stddef.h>

typedef struct {
    const char *const *v;
    size_t n;
} spate_ru_list_t;

#define SPATE_RU_LIST(arr)                                                                         \
    { (arr), sizeof(arr) / sizeof((arr)[0]) }

typedef struct {
    const char *code;    /* "US" */
    const char *country; /* "United States", as randomuser.me spells it */
    spate_ru_list_t male_first, female_first, last;
    spate_ru_list_t streets, cities, states;
    /* Titles; an empty list means the defaults ("Mr"; "Miss"/"Mrs"/"Ms"). */
    spate_ru_list_t male_titles, female_titles;
    /* Postcode: a string from postcode_pattern when it is non-NULL (GB,
     * CA, NO), otherwise an integer in [postcode_min, postcode_max]. */
    const char *postcode_pattern;
    int postcode_min, postcode_max;
    const char *phone_pattern;
    const char *cell_pattern;
    /* National id: name ("" when the nationality has none) and value
     * pattern (NULL → JSON null). */
    const char *id_name;
    const char *id_pattern;
} spate_ru_nat_t;

#define SPATE_RU_NNATS 21
extern const spate_ru_nat_t spate_ru_nats[SPATE_RU_NNATS];

/* Shared lists. */
extern const spate_ru_list_t spate_ru_username_adjectives; /* >= 23 */
extern const spate_ru_list_t spate_ru_username_animals;    /* >= 26 */
extern const spate_ru_list_t spate_ru_passwords;           /* common passwords */
extern const spate_ru_list_t spate_ru_female_titles;       /* Miss, Mrs, Ms */

/* Time zones: offset as "+9:30" / "-3:00" / "0:00", and a description
 * naming places in it. */
typedef struct {
    const char *offset;
    const char *description;
} spate_ru_tz_t;

extern const spate_ru_tz_t spate_ru_timezones[];
extern const size_t spate_ru_ntimezones;

#endif /* SPATE_SOURCE_RANDOMUSER_DATA_H */
