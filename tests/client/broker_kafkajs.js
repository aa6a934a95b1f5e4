// spate broker driven by kafkajs 2.x (tests/node), a pure-JavaScript Kafka
// client that shares no code with librdkafka: admin createTopics/listTopics,
// a producer with keys, headers and acks=all, a two-member consumer group
// that reads everything exactly once, committed offsets, deleteTopics.
//
//   node tests/client/broker_kafkajs.js HOST:PORT
//
// Prints "ok - ..." per check; exits 0 only when every check passed.
'use strict';
const path = require('path');

const src = process.env.SPATE_SRC || path.join(__dirname, '..', '..');
const { Kafka, logLevel, CompressionTypes } = require(path.join(src, 'tests/node/node_modules/kafkajs'));

const broker = process.argv[2];
if (!broker) {
  console.error('usage: broker_kafkajs.js HOST:PORT');
  process.exit(2);
}

// The whole run must stay well under a minute.
const watchdog = setTimeout(() => {
  console.error('FAIL - timed out after 55 s');
  process.exit(1);
}, 55000);

function fail(msg) {
  const e = new Error(msg);
  e.checkFailed = true;
  throw e;
}
function ok(msg) {
  console.log(`ok - ${msg}`);
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
async function waitFor(what, cond, ms) {
  const until = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > until) fail(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

const kafka = new Kafka({
  clientId: 'spate-kafkajs-test',
  brokers: [broker],
  logLevel: process.env.KAFKAJS_DEBUG ? logLevel.DEBUG : logLevel.NOTHING,
  connectionTimeout: 3000,
  retry: { retries: 3 },
});

const suffix = `${process.pid}-${Date.now()}`;
const topicA = `kjs-a-${suffix}`;
const topicB = `kjs-b-${suffix}`;
const groupId = `kjs-group-${suffix}`;
const PARTITIONS = 3;
const N = 300;

// Message i goes to partition i % 3, so every offset is known in advance.
function message(i) {
  return {
    partition: i % PARTITIONS,
    key: `key-${i}`,
    value: `value-${i}-${'x'.repeat(i % 50)}`,
    headers: { seq: String(i), trace: `t${i % 7}` },
  };
}

async function main() {
  const admin = kafka.admin();
  await admin.connect();

  // CreateTopics, waiting for leaders (Metadata) as clients do.
  const created = await admin.createTopics({
    waitForLeaders: true,
    topics: [
      { topic: topicA, numPartitions: PARTITIONS, replicationFactor: 1 },
      { topic: topicB, numPartitions: PARTITIONS, replicationFactor: 1 },
    ],
  });
  if (created !== true) fail(`createTopics returned ${created}, want true`);
  const topics = await admin.listTopics();
  if (!topics.includes(topicA) || !topics.includes(topicB))
    fail(`listTopics: ${JSON.stringify(topics)} lacks ${topicA}/${topicB}`);
  const meta = await admin.fetchTopicMetadata({ topics: [topicA, topicB] });
  for (const t of meta.topics) {
    if (t.partitions.length !== PARTITIONS)
      fail(`${t.name} has ${t.partitions.length} partitions, want ${PARTITIONS}`);
    for (const p of t.partitions)
      if (p.leader < 0 || p.partitionErrorCode !== 0)
        fail(`${t.name}/${p.partition}: leader ${p.leader}, error ${p.partitionErrorCode}`);
  }
  ok('createTopics (2 topics x 3 partitions, waitForLeaders) and listTopics');

  // Produce in three sends; each send's base offset per partition must be
  // the number of messages that partition already had.
  const producer = kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  const count = new Array(PARTITIONS).fill(0);
  for (let b = 0; b < 3; b++) {
    const msgs = [];
    for (let i = b * 100; i < (b + 1) * 100; i++) msgs.push(message(i));
    const res = await producer.send({ topic: topicA, acks: -1, messages: msgs });
    if (res.length !== PARTITIONS) fail(`send ${b}: ${res.length} partition results, want ${PARTITIONS}`);
    const sent = new Array(PARTITIONS).fill(0);
    for (const m of msgs) sent[m.partition]++;
    for (const r of res) {
      if (r.topicName !== topicA || r.errorCode !== 0)
        fail(`send ${b}: result ${JSON.stringify(r)}`);
      if (String(r.baseOffset) !== String(count[r.partition]))
        fail(`send ${b} partition ${r.partition}: baseOffset ${r.baseOffset}, want ${count[r.partition]}`);
    }
    for (let p = 0; p < PARTITIONS; p++) count[p] += sent[p];
  }
  await producer.disconnect();
  ok(`producer sent ${N} messages with keys and headers, acks=-1; base offsets as expected in all 3 sends`);

  const ends = await admin.fetchTopicOffsets(topicA);
  for (const e of ends)
    if (String(e.high) !== String(count[e.partition]) || String(e.low) !== '0')
      fail(`ListOffsets partition ${e.partition}: low ${e.low} high ${e.high}, want 0 ${count[e.partition]}`);
  ok('ListOffsets: earliest 0, latest = messages sent, per partition');

  // A group of two consumers.
  const seen = new Map(); // "p:offset" -> consumer index
  let deliveries = 0;
  const got = [0, 0];
  const assignment = [null, null]; // latest GROUP_JOIN assignment per consumer
  let bad = null;
  const consumers = [0, 1].map((ci) => {
    const c = kafka.consumer({
      groupId,
      sessionTimeout: 10000,
      heartbeatInterval: 500,
      rebalanceTimeout: 10000,
      maxWaitTimeInMs: 500,
      allowAutoTopicCreation: false,
      retry: { retries: 3 },
    });
    c.on(c.events.GROUP_JOIN, (e) => {
      assignment[ci] = (e.payload.memberAssignment[topicA] || []).slice().sort();
    });
    c.on(c.events.CRASH, (e) => {
      bad = bad || `consumer ${ci} crashed: ${e.payload.error && e.payload.error.message}`;
    });
    return c;
  });
  const eachMessage = (ci) => async ({ topic, partition, message: m }) => {
    deliveries++;
    got[ci]++;
    const k = `${partition}:${m.offset}`;
    if (seen.has(k)) {
      bad = bad || `${topic} ${k} delivered twice (consumers ${seen.get(k)} and ${ci})`;
      return;
    }
    seen.set(k, ci);
    const i = Number(m.offset) * PARTITIONS + partition; // inverse of message(i)
    const want = message(i);
    const h = m.headers || {};
    if (topic !== topicA || String(m.key) !== want.key || String(m.value) !== want.value ||
        String(h.seq) !== want.headers.seq || String(h.trace) !== want.headers.trace ||
        Object.keys(h).length !== 2)
      bad = bad || `${k}: got key=${m.key} value=${m.value} headers=${JSON.stringify(h)}, want ${JSON.stringify(want)}`;
  };
  await Promise.all(consumers.map((c) => c.connect()));
  await Promise.all(consumers.map((c) => c.subscribe({ topics: [topicA], fromBeginning: true })));
  await Promise.all(consumers.map((c, ci) => c.run({ eachMessage: eachMessage(ci) })));

  const split = () => {
    const [a, b] = assignment;
    if (!a || !b || a.length === 0 || b.length === 0) return false;
    const all = new Set([...a, ...b]);
    return all.size === PARTITIONS && a.length + b.length === PARTITIONS;
  };
  await waitFor('all messages and a split assignment', () => bad || (seen.size >= N && split()), 30000);
  if (bad) fail(bad);
  // Let a late duplicate (a redelivery after rebalance) show itself.
  await sleep(1000);
  if (bad) fail(bad);
  if (deliveries !== N) fail(`${deliveries} deliveries of ${N} messages`);
  ok(`consumer group: ${N} messages consumed exactly once (consumer 0: ${got[0]}, consumer 1: ${got[1]})`);
  ok(`partitions split: consumer 0 has [${assignment[0]}], consumer 1 has [${assignment[1]}]`);
  await Promise.all(consumers.map((c) => c.disconnect()));
  ok('both consumers left the group');

  const committed = await admin.fetchOffsets({ groupId, topics: [topicA] });
  const parts = committed.length === 1 ? committed[0].partitions : [];
  if (parts.length !== PARTITIONS) fail(`fetchOffsets: ${JSON.stringify(committed)}`);
  for (const p of parts)
    if (String(p.offset) !== String(count[p.partition]))
      fail(`committed offset of partition ${p.partition} is ${p.offset}, want ${count[p.partition]}`);
  ok(`committed offsets (OffsetFetch) equal the partition ends: ${parts.map((p) => p.offset)}`);

  const { groups } = await admin.describeGroups([groupId]);
  if (groups.length !== 1 || groups[0].state !== 'Empty' || groups[0].members.length !== 0)
    fail(`describeGroups after both left: ${JSON.stringify(groups)}`);
  const listed = await admin.listGroups();
  if (!listed.groups.some((g) => g.groupId === groupId))
    fail(`listGroups lacks ${groupId}: ${JSON.stringify(listed)}`);
  ok('describeGroups: Empty with no members; listGroups lists the group');

  // A gzip batch (kafkajs compresses as asked, whatever ApiVersions says)
  // to topic B, read back by a consumer of another group.
  const gz = kafka.producer({ allowAutoTopicCreation: false });
  await gz.connect();
  const gzMsgs = [];
  for (let i = 0; i < 60; i++) gzMsgs.push(message(i));
  await gz.send({ topic: topicB, acks: -1, compression: CompressionTypes.GZIP, messages: gzMsgs });
  await gz.disconnect();
  const gzGot = new Map();
  const gc = kafka.consumer({
    groupId: `${groupId}-gzip`,
    sessionTimeout: 10000,
    heartbeatInterval: 500,
    rebalanceTimeout: 10000,
    maxWaitTimeInMs: 500,
    allowAutoTopicCreation: false,
  });
  await gc.connect();
  await gc.subscribe({ topics: [topicB], fromBeginning: true });
  await gc.run({
    eachMessage: async ({ partition, message: m }) => {
      const i = Number(m.offset) * PARTITIONS + partition;
      const want = message(i);
      if (gzGot.has(i) || String(m.key) !== want.key || String(m.value) !== want.value ||
          String((m.headers || {}).seq) !== want.headers.seq)
        bad = bad || `gzip ${partition}:${m.offset}: key=${m.key} value=${m.value}`;
      gzGot.set(i, true);
    },
  });
  await waitFor('the gzip messages', () => bad || gzGot.size >= gzMsgs.length, 20000);
  await gc.disconnect();
  if (bad) fail(bad);
  ok(`gzip-compressed batches: ${gzMsgs.length} messages produced and consumed intact`);

  await admin.deleteTopics({ topics: [topicA, topicB], timeout: 5000 });
  const after = await admin.listTopics();
  if (after.includes(topicA) || after.includes(topicB))
    fail(`listTopics after deleteTopics still has them: ${JSON.stringify(after)}`);
  ok('deleteTopics removes both topics');
  await admin.disconnect();
}

main().then(
  () => {
    clearTimeout(watchdog);
    process.exit(0);
  },
  (e) => {
    console.error(`FAIL - ${e.checkFailed ? e.message : e.stack || e}`);
    process.exit(1);
  },
);
