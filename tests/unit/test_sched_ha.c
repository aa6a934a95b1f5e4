/*
 * test_sched_ha.c — the leader-election handle (src/sched/sched_ha.c)
 * without a ZooKeeper: argument checking, and that an unreachable
 * ensemble is not an error but never makes us leader, and that stop then
 * returns promptly with nothing leaked (valgrind run).
 *
 * With SPATE_TEST_ZK=host:port (a ZooKeeper to play with, e.g. one
 * started by tests/client/zktest.py) it also runs the election itself:
 * three candidates, exactly one leads, a resign hands over in well under
 * a second. Failover through a killed scheduler, ZooKeeper outages and
 * expired sessions are covered end to end by tests/client/test_sched_ha.py.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sched.h"

static void test_bad_arguments(void **state) {
    (void)state;
    char err[256];
    spate_sched_ha_t *h = (spate_sched_ha_t *)&err; /* must be reset to NULL */

    assert_int_equal(spate_sched_ha_start(&h, "", "/x", 4000, err, sizeof err), SPATE_EINVAL);
    assert_null(h);
    assert_string_equal(err, "zookeeper: no hosts");
    assert_int_equal(spate_sched_ha_start(&h, NULL, "/x", 4000, err, sizeof err), SPATE_EINVAL);

    const char *paths[] = {"relative/path", "/", "/a//b", "//"};
    for (size_t i = 0; i < sizeof paths / sizeof *paths; i++) {
        assert_int_equal(spate_sched_ha_start(&h, "127.0.0.1:1", paths[i], 4000, err, sizeof err),
                         SPATE_EINVAL);
        assert_null(h);
        char want[128];
        snprintf(want, sizeof want, "zk_path '%s': ", paths[i]);
        assert_memory_equal(err, want, strlen(want));
    }

    const char *hosts[] = {"127.0.0.1:notaport", "127.0.0.1", ","};
    for (size_t i = 0; i < sizeof hosts / sizeof *hosts; i++) {
        assert_int_equal(spate_sched_ha_start(&h, hosts[i], "/x", 4000, err, sizeof err),
                         SPATE_EINVAL);
        assert_null(h);
        char want[160];
        snprintf(want, sizeof want, "zookeeper '%s': not a host:port[,host:port...] list",
                 hosts[i]);
        assert_string_equal(err, want);
    }
}

static void test_null_handle(void **state) {
    (void)state;
    assert_false(spate_sched_ha_is_leader(NULL));
    spate_sched_ha_stop(NULL); /* no-op */
}

/* Nothing listens on port 1: the handle starts, keeps trying, never
 * leads, and stops at once. A trailing '/' and a NULL path are fine. */
static void test_unreachable(void **state) {
    (void)state;
    char err[256] = "";
    const char *paths[] = {"/spate/x/", NULL};
    for (size_t i = 0; i < 2; i++) {
        spate_sched_ha_t *h = NULL;
        assert_int_equal(spate_sched_ha_start(&h, "127.0.0.1:1", paths[i], 0, err, sizeof err),
                         SPATE_OK);
        assert_non_null(h);
        for (int k = 0; k < 30; k++) {
            assert_false(spate_sched_ha_is_leader(h));
            usleep(10000);
        }
        int64_t t0 = spate_mono_ms();
        spate_sched_ha_stop(h);
        assert_true(spate_mono_ms() - t0 < 3000);
    }
}

/* SPATE_TEST_ZK only: one leader among three, a resign hands over. */
static int count_leaders(spate_sched_ha_t **hs, size_t n, size_t *who) {
    int c = 0;
    for (size_t i = 0; i < n; i++)
        if (hs[i] && spate_sched_ha_is_leader(hs[i])) {
            c++;
            *who = i;
        }
    return c;
}

static size_t wait_one_leader(spate_sched_ha_t **hs, size_t n, int64_t ms) {
    int64_t t0 = spate_mono_ms();
    size_t who = n;
    while (spate_mono_ms() - t0 < ms) {
        int c = count_leaders(hs, n, &who);
        assert_true(c <= 1);
        if (c == 1) return who;
        usleep(5000);
    }
    fail_msg("no leader within %lld ms", (long long)ms);
    return n;
}

static void test_election_live(void **state) {
    (void)state;
    const char *zk = getenv("SPATE_TEST_ZK");
    if (!zk || !*zk) {
        skip();
        return;
    }
    char path[64], err[256];
    snprintf(path, sizeof path, "/spate-unit/%d", (int)getpid());
    spate_sched_ha_t *hs[3] = {0};
    for (size_t i = 0; i < 3; i++)
        assert_int_equal(spate_sched_ha_start(&hs[i], zk, path, 4000, err, sizeof err), SPATE_OK);
    size_t first = wait_one_leader(hs, 3, 5000);
    usleep(1000000); /* stable: still exactly that one */
    size_t who = 3;
    assert_int_equal(count_leaders(hs, 3, &who), 1);
    assert_int_equal(who, first);

    spate_sched_ha_stop(hs[first]);
    hs[first] = NULL;
    int64_t t0 = spate_mono_ms();
    size_t next = wait_one_leader(hs, 3, 2000);
    assert_true(next != first);
    assert_true(spate_mono_ms() - t0 < 1000);

    /* stopping the standby changes nothing */
    for (size_t i = 0; i < 3; i++)
        if (i != next && hs[i]) {
            spate_sched_ha_stop(hs[i]);
            hs[i] = NULL;
        }
    usleep(300000);
    assert_true(spate_sched_ha_is_leader(hs[next]));
    spate_sched_ha_stop(hs[next]);
}

int main(void) {
    spate_log_set_level(SPATE_LOG_OFF);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bad_arguments),
        cmocka_unit_test(test_null_handle),
        cmocka_unit_test(test_unreachable),
        cmocka_unit_test(test_election_live),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
