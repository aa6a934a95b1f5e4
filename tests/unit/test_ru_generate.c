/*
 * test_ru_generate.c — the randomuser generator and its HTTP handler.
 *
 * Checks what clients of randomuser.me rely on: the JSON shape and types
 * of every field (postcode int or string by nationality, coordinates as
 * strings, real digests of password+salt), seeds that reproduce users,
 * nat/gender/inc/exc/noinfo/password handling, the five output formats,
 * and the handler's 404/405/429/5xx/empty answers.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <regex.h>
#include <string.h>

#include "source_int.h"

#define NOW 1795000000000LL /* 2026-11-19, fixed so ages are stable */

static json_t *gen_json(const char *query, spate_buf_t *b) {
    spate_ru_params_t p;
    spate_ru_params_parse_query(&p, query, strlen(query));
    spate_buf_reset(b);
    assert_int_equal(spate_ru_generate(&p, NOW, false, b, NULL), SPATE_OK);
    json_error_t jerr;
    json_t *j = json_loadb(b->data, b->len, 0, &jerr);
    if (!j)
        fail_msg("invalid JSON for %s: %s at %d: %.80s", query, jerr.text, jerr.position, b->data);
    return j;
}

static bool matches(const char *re, const char *s) {
    regex_t r;
    assert_int_equal(regcomp(&r, re, REG_EXTENDED | REG_NOSUB), 0);
    bool ok = regexec(&r, s, 0, NULL, 0) == 0;
    regfree(&r);
    return ok;
}

static const char *jstr(json_t *o, const char *path) {
    /* path like "login.md5" */
    char buf[64];
    snprintf(buf, sizeof buf, "%s", path);
    json_t *cur = o;
    for (char *tok = strtok(buf, "."); tok; tok = strtok(NULL, ".")) {
        cur = json_object_get(cur, tok);
        if (!cur) fail_msg("missing %s", path);
    }
    if (!json_is_string(cur)) fail_msg("%s is not a string", path);
    return json_string_value(cur);
}

static void check_user(json_t *u, const char *nat_expect) {
    assert_true(json_is_object(u));
    assert_int_equal(json_object_size(u), 12);
    const char *g = jstr(u, "gender");
    assert_true(strcmp(g, "male") == 0 || strcmp(g, "female") == 0);
    const char *title = jstr(u, "name.title");
    const char *nat = jstr(u, "nat");
    if (nat_expect) assert_string_equal(nat, nat_expect);
    if (strcmp(nat, "CH") && strcmp(nat, "FR")) {
        if (strcmp(g, "male") == 0)
            assert_string_equal(title, "Mr");
        else
            assert_true(matches("^(Miss|Mrs|Ms)$", title));
    }
    assert_true(strlen(jstr(u, "name.first")) > 0);
    assert_true(strlen(jstr(u, "name.last")) > 0);
    json_t *loc = json_object_get(u, "location");
    json_t *num = json_object_get(json_object_get(loc, "street"), "number");
    assert_true(json_is_integer(num));
    assert_in_range(json_integer_value(num), 1, 9999);
    jstr(u, "location.street.name");
    jstr(u, "location.city");
    jstr(u, "location.state");
    jstr(u, "location.country");
    json_t *pc = json_object_get(loc, "postcode");
    if (!strcmp(nat, "GB") || !strcmp(nat, "CA") || !strcmp(nat, "NO")) {
        assert_true(json_is_string(pc));
        if (!strcmp(nat, "CA"))
            assert_true(matches("^[A-Z][0-9][A-Z] [0-9][A-Z][0-9]$", json_string_value(pc)));
        if (!strcmp(nat, "NO")) assert_true(matches("^[0-9]{4}$", json_string_value(pc)));
    } else {
        assert_true(json_is_integer(pc));
        int64_t v = json_integer_value(pc);
        if (!strcmp(nat, "AU"))
            assert_in_range(v, 200, 9999);
        else if (!strcmp(nat, "CH"))
            assert_in_range(v, 1000, 9999);
        else
            assert_in_range(v, 10000, 99999);
    }
    assert_true(matches("^-?[0-9]{1,2}\\.[0-9]{4}$", jstr(u, "location.coordinates.latitude")));
    assert_true(matches("^-?[0-9]{1,3}\\.[0-9]{4}$", jstr(u, "location.coordinates.longitude")));
    assert_true(matches("^[+-]?[0-9]{1,2}:[0-9]{2}$", jstr(u, "location.timezone.offset")));
    jstr(u, "location.timezone.description");
    assert_true(matches("^[a-z0-9-]+\\.[a-z0-9-]+@example\\.com$", jstr(u, "email")));
    assert_true(matches("^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$",
                        jstr(u, "login.uuid")));
    assert_true(matches("^[a-z]+[0-9]{3}$", jstr(u, "login.username")));
    const char *pw = jstr(u, "login.password"), *salt = jstr(u, "login.salt");
    assert_true(matches("^[A-Za-z0-9]{8}$", salt));
    char ps[256], hex[65];
    snprintf(ps, sizeof ps, "%s%s", pw, salt);
    spate_hash_hex(SPATE_HASH_MD5, ps, strlen(ps), hex);
    assert_string_equal(jstr(u, "login.md5"), hex);
    spate_hash_hex(SPATE_HASH_SHA1, ps, strlen(ps), hex);
    assert_string_equal(jstr(u, "login.sha1"), hex);
    spate_hash_hex(SPATE_HASH_SHA256, ps, strlen(ps), hex);
    assert_string_equal(jstr(u, "login.sha256"), hex);
    const char *iso = "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3}Z$";
    assert_true(matches(iso, jstr(u, "dob.date")));
    assert_true(matches(iso, jstr(u, "registered.date")));
    assert_string_not_equal(jstr(u, "dob.date"), "");
    /* dob 1944..2001, registered 2002..2022 */
    assert_true(strcmp(jstr(u, "dob.date"), "1944-08") > 0 &&
                strcmp(jstr(u, "dob.date"), "2001-06") < 0);
    assert_true(strcmp(jstr(u, "registered.date"), "2002-03") > 0 &&
                strcmp(jstr(u, "registered.date"), "2022-05-24") < 0);
    json_t *age = json_object_get(json_object_get(u, "dob"), "age");
    assert_true(json_is_integer(age));
    assert_in_range(json_integer_value(age), 25, 83);
    assert_true(json_is_integer(json_object_get(json_object_get(u, "registered"), "age")));
    assert_true(strlen(jstr(u, "phone")) >= 6);
    assert_true(strlen(jstr(u, "cell")) >= 6);
    json_t *id = json_object_get(u, "id");
    jstr(u, "id.name");
    json_t *idv = json_object_get(id, "value");
    if (jstr(u, "id.name")[0])
        assert_true(json_is_string(idv));
    else
        assert_true(json_is_null(idv));
    if (!strcmp(nat, "US"))
        assert_true(matches("^[0-9]{3}-[0-9]{2}-[0-9]{4}$", json_string_value(idv)));
    const char *pic = strcmp(g, "male") == 0 ? "men" : "women";
    char re[128];
    snprintf(re, sizeof re, "^https://randomuser\\.me/api/portraits/%s/[0-9]{1,2}\\.jpg$", pic);
    assert_true(matches(re, jstr(u, "picture.large")));
    snprintf(re, sizeof re, "^https://randomuser\\.me/api/portraits/med/%s/[0-9]{1,2}\\.jpg$", pic);
    assert_true(matches(re, jstr(u, "picture.medium")));
    jstr(u, "picture.thumbnail");
}

static void test_shape_every_nat(void **state) {
    (void)state;
    spate_buf_t b = SPATE_BUF_INIT;
    for (int i = 0; i < spate_ru_nat_count(); i++) {
        char q[64];
        snprintf(q, sizeof q, "results=120&seed=shape&nat=%s", spate_ru_nat_code(i));
        json_t *j = gen_json(q, &b);
        json_t *res = json_object_get(j, "results");
        assert_int_equal(json_array_size(res), 120);
        for (size_t k = 0; k < json_array_size(res); k++)
            check_user(json_array_get(res, k), spate_ru_nat_code(i));
        json_decref(j);
    }
    spate_buf_free(&b);
}

static void test_info_and_defaults(void **state) {
    (void)state;
    spate_buf_t b = SPATE_BUF_INIT;
    json_t *j = gen_json("", &b);
    assert_int_equal(json_array_size(json_object_get(j, "results")), 1);
    json_t *info = json_object_get(j, "info");
    assert_true(matches("^[a-f0-9]{16}$", json_string_value(json_object_get(info, "seed"))));
    assert_int_equal(json_integer_value(json_object_get(info, "results")), 1);
    assert_int_equal(json_integer_value(json_object_get(info, "page")), 1);
    assert_string_equal(json_string_value(json_object_get(info, "version")), "1.4");
    /* the reported seed reproduces the users */
    char q[64];
    snprintf(q, sizeof q, "seed=%s", json_string_value(json_object_get(info, "seed")));
    char *first = json_dumps(json_object_get(j, "results"), JSON_COMPACT);
    json_decref(j);
    j = gen_json(q, &b);
    char *again = json_dumps(json_object_get(j, "results"), JSON_COMPACT);
    assert_string_equal(first, again);
    free(first);
    free(again);
    json_decref(j);
    j = gen_json("results=7&page=3&seed=x&noinfo", &b);
    assert_null(json_object_get(j, "info"));
    assert_int_equal(json_array_size(json_object_get(j, "results")), 7);
    json_decref(j);
    j = gen_json("results=5000", &b);
    assert_int_equal(json_array_size(json_object_get(j, "results")), 5000);
    json_decref(j);
    j = gen_json("results=5001", &b);
    assert_int_equal(json_array_size(json_object_get(j, "results")), 1);
    json_decref(j);
    spate_buf_free(&b);
}

static void test_seed_determinism(void **state) {
    (void)state;
    spate_buf_t a = SPATE_BUF_INIT, c = SPATE_BUF_INIT;
    spate_ru_params_t p;
    const char *q = "results=50&seed=abc&nat=us,fr,de";
    spate_ru_params_parse_query(&p, q, strlen(q));
    assert_int_equal(spate_ru_generate(&p, NOW, false, &a, NULL), SPATE_OK);
    assert_int_equal(spate_ru_generate(&p, NOW, false, &c, NULL), SPATE_OK);
    assert_int_equal(a.len, c.len);
    assert_memory_equal(a.data, c.data, a.len);
    /* another page, another seed: other users */
    p.page = 2;
    spate_buf_reset(&c);
    assert_int_equal(spate_ru_generate(&p, NOW, false, &c, NULL), SPATE_OK);
    assert_false(a.len == c.len && memcmp(a.data, c.data, a.len) == 0);
    /* inc/exc hide fields but draw the same users */
    json_t *all = gen_json("results=20&seed=inc", &a);
    json_t *some = gen_json("results=20&seed=inc&inc=name,login", &c);
    for (int i = 0; i < 20; i++) {
        json_t *u = json_array_get(json_object_get(some, "results"), (size_t)i);
        json_t *v = json_array_get(json_object_get(all, "results"), (size_t)i);
        assert_int_equal(json_object_size(u), 2);
        assert_true(json_equal(json_object_get(u, "login"), json_object_get(v, "login")));
    }
    json_decref(all);
    json_decref(some);
    spate_buf_free(&a);
    spate_buf_free(&c);
}

static void test_filters(void **state) {
    (void)state;
    spate_buf_t b = SPATE_BUF_INIT;
    json_t *j = gen_json("results=200&nat=gb,CA", &b);
    json_t *res = json_object_get(j, "results");
    int seen_gb = 0, seen_ca = 0;
    for (size_t i = 0; i < json_array_size(res); i++) {
        const char *n = jstr(json_array_get(res, i), "nat");
        seen_gb += !strcmp(n, "GB");
        seen_ca += !strcmp(n, "CA");
    }
    assert_int_equal(seen_gb + seen_ca, 200);
    assert_true(seen_gb > 50 && seen_ca > 50);
    json_decref(j);
    j = gen_json("results=100&gender=female", &b);
    res = json_object_get(j, "results");
    for (size_t i = 0; i < json_array_size(res); i++)
        assert_string_equal(jstr(json_array_get(res, i), "gender"), "female");
    json_decref(j);
    /* gender is ignored with a seed, as randomuser.me does */
    j = gen_json("results=100&gender=female&seed=g", &b);
    res = json_object_get(j, "results");
    int males = 0;
    for (size_t i = 0; i < json_array_size(res); i++)
        males += !strcmp(jstr(json_array_get(res, i), "gender"), "male");
    assert_true(males > 20);
    json_decref(j);
    j = gen_json("results=3&exc=login,id,picture", &b);
    json_t *u = json_array_get(json_object_get(j, "results"), 0);
    assert_int_equal(json_object_size(u), 9);
    assert_null(json_object_get(u, "login"));
    json_decref(j);
    spate_buf_free(&b);
}

static void test_password_param(void **state) {
    (void)state;
    spate_buf_t b = SPATE_BUF_INIT;
    json_t *j = gen_json("results=200&password=upper,number,4-6", &b);
    json_t *res = json_object_get(j, "results");
    for (size_t i = 0; i < json_array_size(res); i++) {
        const char *pw = jstr(json_array_get(res, i), "login.password");
        assert_true(matches("^[A-Z0-9]{4,6}$", pw));
    }
    json_decref(j);
    /* special characters are escaped properly in JSON */
    j = gen_json("results=200&password=special,32", &b);
    res = json_object_get(j, "results");
    for (size_t i = 0; i < json_array_size(res); i++)
        assert_int_equal(strlen(jstr(json_array_get(res, i), "login.password")), 32);
    json_decref(j);
    spate_buf_free(&b);
}

static void test_formats(void **state) {
    (void)state;
    spate_buf_t b = SPATE_BUF_INIT, c = SPATE_BUF_INIT;
    json_t *compact = gen_json("results=5&seed=fmt", &b);
    json_t *pretty = gen_json("results=5&seed=fmt&format=pretty", &c);
    assert_true(json_equal(compact, pretty));
    assert_non_null(strstr(c.data, "\n      \"gender\": "));
    json_decref(pretty);

    spate_ru_params_t p;
    const char *q = "results=5&seed=fmt&format=csv";
    spate_ru_params_parse_query(&p, q, strlen(q));
    spate_buf_reset(&c);
    assert_int_equal(spate_ru_generate(&p, NOW, false, &c, NULL), SPATE_OK);
    int lines = 0;
    for (size_t i = 0; i < c.len; i++) lines += c.data[i] == '\n';
    assert_int_equal(lines, 6);
    assert_true(
        strncmp(c.data, "gender,name.title,name.first,name.last,location.street.number,", 62) == 0);
    assert_non_null(strstr(c.data, ",login.sha256,dob.date,dob.age,"));

    /* YAML reads back (through spate's own YAML loader) with the same values */
    q = "results=5&seed=fmt&format=yaml";
    spate_ru_params_parse_query(&p, q, strlen(q));
    spate_buf_reset(&c);
    assert_int_equal(spate_ru_generate(&p, NOW, false, &c, NULL), SPATE_OK);
    spate_conf_t conf;
    spate_conf_err_t err;
    if (spate_conf_load_string(&conf, "yaml", c.data, c.len, &err) != SPATE_OK)
        fail_msg("YAML output does not parse: %s\n%.400s", err.msg, c.data);
    const spate_conf_node_t *res = spate_conf_get(conf.root, "results");
    assert_non_null(res);
    assert_int_equal(res->nchild, 5);
    const spate_conf_node_t *u0 = res->child;
    const char *first = NULL;
    assert_int_equal(spate_conf_get_str(&conf, spate_conf_get(u0, "name"), "first", &first, &err),
                     SPATE_OK);
    assert_string_equal(first,
                        jstr(json_array_get(json_object_get(compact, "results"), 0), "name.first"));
    int64_t num;
    assert_int_equal(
        spate_conf_get_i64(&conf, spate_conf_get(u0, "location"), "street", 0, 0, &num, &err),
        SPATE_EINVAL); /* a mapping, not a number */
    assert_non_null(spate_conf_get(conf.root, "info"));
    spate_conf_free(&conf);

    q = "results=2&seed=fmt&format=xml";
    spate_ru_params_parse_query(&p, q, strlen(q));
    spate_buf_reset(&c);
    assert_int_equal(spate_ru_generate(&p, NOW, false, &c, NULL), SPATE_OK);
    assert_true(strncmp(c.data, "<?xml", 5) == 0);
    int opens = 0;
    for (const char *s = c.data; (s = strstr(s, "  <results>\n")); s++)
        opens++; /* not info's <results>2</results> */
    assert_int_equal(opens, 2);
    assert_non_null(strstr(c.data, "<version>1.4</version>"));
    assert_non_null(strstr(c.data, "</user>\n"));
    json_decref(compact);
    spate_buf_free(&b);
    spate_buf_free(&c);
}

static void test_empty_shape(void **state) {
    (void)state;
    spate_ru_params_t p;
    spate_ru_params_parse_query(&p, "results=10", 10);
    spate_buf_t b = SPATE_BUF_INIT;
    assert_int_equal(spate_ru_generate(&p, NOW, true, &b, NULL), SPATE_OK);
    json_t *j = json_loadb(b.data, b.len, 0, NULL);
    assert_non_null(j);
    assert_int_equal(json_array_size(json_object_get(j, "results")), 0);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(j, "info"), "results")),
                     10);
    json_decref(j);
    spate_buf_free(&b);
}

static void handle(spate_ru_server_t *s, const char *method, const char *path, const char *query,
                   spate_http_resp_t *resp) {
    spate_http_req_t req = {.method = method, .path = path, .query = query};
    snprintf(req.client_ip, sizeof req.client_ip, "127.0.0.1");
    spate_buf_free(&resp->body);
    memset(resp, 0, sizeof *resp);
    resp->status = 200;
    spate_ru_server_handle(s, &req, resp);
}

static const char *header(const spate_http_resp_t *r, const char *name) {
    for (int i = 0; i < r->nheaders; i++)
        if (!strcmp(r->headers[i].name, name)) return r->headers[i].value;
    return NULL;
}

/* Server settings for handler tests: loopback, a free port, one thread. */
static spate_ru_server_conf_t test_conf(void) {
    spate_ru_server_conf_t c;
    spate_ru_server_conf_default(&c);
    char err[128];
    assert_int_equal(spate_net_addr_parse("127.0.0.1:0", &c.listen, err, sizeof err), SPATE_OK);
    c.threads = 1;
    return c;
}

static void test_handler(void **state) {
    (void)state;
    spate_ru_server_conf_t c = test_conf();
    c.rate_limit = 10;
    c.rate_window_s = 60;
    spate_ru_server_t *s;
    assert_int_equal(spate_ru_server_start(&s, &c), SPATE_OK);
    assert_true(spate_ru_server_port(s) > 0);
    spate_http_resp_t r = {0};
    handle(s, "GET", "/health", "", &r);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body.data, "{\"status\":\"ok\"}");
    handle(s, "GET", "/nope", "", &r);
    assert_int_equal(r.status, 404);
    assert_non_null(strstr(r.body.data, "\"error\""));
    handle(s, "GET", "/api/1.1/", "", &r);
    assert_int_equal(r.status, 404);
    handle(s, "POST", "/api/", "", &r);
    assert_int_equal(r.status, 405);
    /* rate limit: counted in users; the request crossing the limit is served */
    handle(s, "GET", "/api/1.4/", "results=6", &r);
    assert_int_equal(r.status, 200);
    handle(s, "GET", "/api", "results=6", &r);
    assert_int_equal(r.status, 200);
    handle(s, "GET", "/api/", "results=1", &r);
    assert_int_equal(r.status, 429);
    assert_non_null(strstr(r.body.data, "You've requested 12 users"));
    const char *ra = header(&r, "Retry-After");
    assert_non_null(ra);
    assert_in_range(atoi(ra), 1, 60);
    handle(s, "GET", "/api/", "results=2&format=csv&dl", &r);
    assert_int_equal(r.status, 429);
    spate_buf_free(&r.body);
    spate_ru_server_stop(s);

    c.rate_limit = 0;
    c.error_rate = 1;
    c.error_status = 502;
    assert_int_equal(spate_ru_server_start(&s, &c), SPATE_OK);
    handle(s, "GET", "/api/", "", &r);
    assert_int_equal(r.status, 502);
    assert_non_null(strstr(r.body.data, "Uh oh"));
    spate_ru_server_stop(s);

    c.error_rate = 0;
    c.empty_rate = 1;
    assert_int_equal(spate_ru_server_start(&s, &c), SPATE_OK);
    handle(s, "GET", "/api/", "results=3&format=csv&dl", &r);
    assert_int_equal(r.status, 200);
    handle(s, "GET", "/api/", "results=3", &r);
    assert_non_null(strstr(r.body.data, "\"results\":[]"));
    spate_ru_server_stop(s);

    c.empty_rate = 0;
    assert_int_equal(spate_ru_server_start(&s, &c), SPATE_OK);
    handle(s, "GET", "/api/", "results=3&format=csv&dl", &r);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.content_type, "text/csv; charset=utf-8");
    assert_string_equal(header(&r, "Content-Disposition"),
                        "attachment; filename=\"randomuser.csv\"");
    handle(s, "GET", "/api/", "callback=cb", &r);
    assert_true(strncmp(r.body.data, "cb({", 4) == 0);
    spate_buf_free(&r.body);
    spate_ru_server_stop(s);
}

/* A large answer is streamed in blocks; put together, the blocks are the
 * same bytes as the one-shot generator's, whatever the block size. */
static void test_handler_streaming(void **state) {
    (void)state;
    spate_ru_server_conf_t c = test_conf();
    spate_ru_server_t *s;
    assert_int_equal(spate_ru_server_start(&s, &c), SPATE_OK);
    const char *fmts[] = {"", "&format=pretty", "&format=csv", "&format=yaml", "&format=xml"};
    for (size_t f = 0; f < SPATE_ARRAY_LEN(fmts); f++) {
        char q[96];
        snprintf(q, sizeof q, "results=700&seed=stream%s", fmts[f]);
        spate_http_resp_t r = {0};
        handle(s, "GET", "/api/", q, &r);
        assert_int_equal(r.status, 200);
        assert_non_null(r.read);
        spate_buf_t all = SPATE_BUF_INIT;
        spate_buf_append(&all, r.body.data, r.body.len);
        bool end = false;
        size_t sizes[] = {1, 7, 4096, 65536};
        for (int k = 0; !end; k++) {
            char buf[65536];
            size_t max = sizes[k % 4];
            long n = r.read(r.cls, buf, max, &end);
            assert_true(n >= 0 && (size_t)n <= max);
            spate_buf_append(&all, buf, (size_t)n);
        }
        r.done(r.cls);
        spate_ru_params_t p;
        spate_ru_params_parse_query(&p, q, strlen(q));
        spate_buf_t one = SPATE_BUF_INIT;
        /* ages depend on the clock: same day in both, so same text */
        assert_int_equal(spate_ru_generate(&p, spate_wall_ms(), false, &one, NULL), SPATE_OK);
        assert_int_equal(all.len, one.len);
        assert_memory_equal(all.data, one.data, one.len);
        spate_buf_free(&all);
        spate_buf_free(&one);
        spate_buf_free(&r.body);
    }
    spate_ru_server_stop(s);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shape_every_nat),   cmocka_unit_test(test_info_and_defaults),
        cmocka_unit_test(test_seed_determinism),  cmocka_unit_test(test_filters),
        cmocka_unit_test(test_password_param),    cmocka_unit_test(test_formats),
        cmocka_unit_test(test_empty_shape),       cmocka_unit_test(test_handler),
        cmocka_unit_test(test_handler_streaming),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
