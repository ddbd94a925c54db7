/*
 * test-redis-cluster.c — the parts of the Redis Cluster client that need
 * no server (the routing itself is tested on a real cluster by
 * tests/cluster/): hash slots as Redis computes them (CRC16/XMODEM of the
 * hash tag, modulo 16384), with the hash-tag rules of the cluster
 * specification, and the backend URL's seed lists and WAIT parameters.
 */
#include <string.h>

#include "backend.h"
#include "redis-cluster.h"
#include "testutil.h"

#define SLOT(lit) akv_rc_slot((lit), sizeof(lit) - 1)

static void slots_match_redis(void **state)
{
    (void)state;
    assert_int_equal(SLOT("123456789"), 12739); /* CRC16 check value */
    assert_int_equal(SLOT("foo"), 12182);
    assert_int_equal(SLOT("bar"), 5061);
    /* The key the issue saw answered "MOVED 7227". */
    assert_int_equal(SLOT("akv:format"), 7227);
    assert_int_equal(SLOT(""), 0);
}

static void hash_tags_follow_the_specification(void **state)
{
    (void)state;
    /* The first '{' and the next '}' with something between. */
    assert_int_equal(SLOT("{user1000}.following"), SLOT("user1000"));
    assert_int_equal(SLOT("{user1000}.followers"), SLOT("user1000"));
    assert_int_equal(SLOT("foo{{bar}}zap"), SLOT("{bar"));
    assert_int_equal(SLOT("foo{bar}{zap}"), SLOT("bar"));
    /* An empty tag, or none closed: the whole key. */
    assert_int_equal(SLOT("foo{}{bar}"), akv_rc_slot("foo{}{bar}", 10));
    assert_int_not_equal(SLOT("foo{}{bar}"), SLOT("bar"));
    assert_int_equal(SLOT("foo{bar"), akv_rc_slot("foo{bar", 7));
    /* Every key of a namespace shares its slot. */
    unsigned v = SLOT("akv:{3:sb1}:v");
    assert_int_equal(SLOT("akv:{3:sb1}:o"), v);
    assert_int_equal(SLOT("akv:{3:sb1}:x"), v);
    assert_int_equal(SLOT("akv:{3:sb1}:u"), v);
    assert_int_equal(v, SLOT("3:sb1"));
}

static void url_seed_lists_and_wait(void **state)
{
    (void)state;
    struct akv_redis_url u;
    assert_ok(akv_redis_url_parse(
        "redis://:pw@h1:7001,h2,[::1]:7003/0?wait=1&wait_timeout=250ms", &u));
    assert_int_equal(u.nseeds, 3);
    assert_string_equal(u.seeds[0].host, "h1");
    assert_int_equal(u.seeds[0].port, 7001);
    assert_string_equal(u.seeds[1].host, "h2");
    assert_int_equal(u.seeds[1].port, 6379);
    assert_string_equal(u.seeds[2].host, "::1");
    assert_int_equal(u.seeds[2].port, 7003);
    assert_string_equal(u.host, "h1");
    assert_int_equal(u.port, 7001);
    assert_string_equal(u.password, "pw");
    assert_int_equal(u.wait_replicas, 1);
    assert_int_equal(u.wait_timeout_ms, 250);
    akv_redis_url_free(&u);
    assert_ok(akv_redis_url_parse("redis://h", &u));
    assert_int_equal(u.nseeds, 1);
    assert_int_equal(u.wait_replicas, 0);
    assert_int_equal(u.wait_timeout_ms, 1000);
    assert_int_equal(u.timeout_ms, 2000);
    akv_redis_url_free(&u);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(slots_match_redis),
        cmocka_unit_test(hash_tags_follow_the_specification),
        cmocka_unit_test(url_seed_lists_and_wait),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
