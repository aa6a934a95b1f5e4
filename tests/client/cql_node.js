// spate cql driven by the Node cassandra-driver 4.x (tests/node), the
// DataStax driver for JavaScript, with its default options: protocol
// negotiation (it starts at DSE_V2 and steps down to the version byte of
// the refusal), the control connection's system.local/peers and
// system_schema reads, schema-change events, token-aware routing of
// prepared statements.
//
//   node tests/client/cql_node.js HOST:PORT
//
// Checks: connect (v4 negotiated, one host in datacenter1); the seed's DDL
// verbatim, twice; client.metadata.getTable with every column and type;
// prepared INSERT and SELECT of the seed's rows; count(*); a typed table
// with a clustering column in DESC order: prepared round trip of its types,
// paging with a small fetchSize returning every row once and in order;
// logged and unlogged batches; errors with their codes and messages.
// Prints "ok - ..." per check; exits 0 only when every check passed.
'use strict';
const path = require('path');

const src = process.env.SPATE_SRC || path.join(__dirname, '..', '..');
const cassandra = require(path.join(src, 'tests/node/node_modules/cassandra-driver'));
const { types } = cassandra;

const server = process.argv[2];
if (!server) {
  console.error('usage: cql_node.js HOST:PORT');
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
function eq(got, want, what) {
  const g = JSON.stringify(got);
  const w = JSON.stringify(want);
  if (g !== w) fail(`${what}: got ${g}, want ${w}`);
}
async function expectError(query, params, code, message, what) {
  try {
    await client.execute(query, params, { prepare: false });
  } catch (e) {
    if (e.code !== code)
      fail(`${what}: error code 0x${(e.code || 0).toString(16)} (${e.message}), ` +
        `want 0x${code.toString(16)}`);
    if (message instanceof RegExp ? !message.test(e.message) : e.message !== message)
      fail(`${what}: message ${JSON.stringify(e.message)}, want ${message}`);
    return;
  }
  fail(`${what}: succeeded, want error 0x${code.toString(16)}`);
}

// The seed's statements (spark_stream.py's create_keyspace / create_table),
// byte for byte: multi-line, trailing ';'.
const SEED_KEYSPACE = `
        CREATE KEYSPACE IF NOT EXISTS spark_streams
        WITH replication = {'class': 'SimpleStrategy', 'replication_factor': '1'};
    `;
const SEED_TABLE = `
    CREATE TABLE IF NOT EXISTS spark_streams.created_users (
        id UUID PRIMARY KEY,
        first_name TEXT,
        last_name TEXT,
        gender TEXT,
        address TEXT,
        post_code TEXT,
        email TEXT,
        username TEXT,
        registered_date TEXT,
        phone TEXT,
        picture TEXT);
    `;
const TEXT_COLS = ['first_name', 'last_name', 'gender', 'address', 'post_code', 'email',
  'username', 'registered_date', 'phone', 'picture'];

const [host, port] = server.split(':');
const client = new cassandra.Client({
  contactPoints: [host],
  protocolOptions: { port: Number(port) },
  localDataCenter: 'datacenter1',
  socketOptions: { connectTimeout: 5000, readTimeout: 10000 },
});

function user(i) {
  const u = { id: types.Uuid.random() };
  for (const c of TEXT_COLS) u[c] = `${c}-${i}-é'`;
  return u;
}

async function main() {
  await client.connect();
  const hosts = client.hosts.values();
  eq(hosts.length, 1, 'hosts');
  eq(hosts[0].datacenter, 'datacenter1', 'host datacenter');
  eq(client.controlConnection.protocolVersion, 4, 'negotiated protocol version');
  ok(`connected to ${server}: protocol v4, one host in datacenter1`);

  for (let i = 0; i < 2; i++) {
    await client.execute(SEED_KEYSPACE);
    await client.execute(SEED_TABLE);
  }
  ok("the seed's CREATE KEYSPACE / CREATE TABLE IF NOT EXISTS, verbatim, twice");

  const ks = await client.metadata.refreshKeyspace('spark_streams').then(() =>
    client.metadata.keyspaces.spark_streams);
  if (!ks) fail('metadata.keyspaces lacks spark_streams');
  eq(ks.strategy, 'org.apache.cassandra.locator.SimpleStrategy', 'keyspace strategy');
  eq(String(ks.strategyOptions.replication_factor), '1', 'keyspace replication_factor');
  const t = await client.metadata.getTable('spark_streams', 'created_users');
  if (!t) fail('metadata.getTable(spark_streams, created_users) gave nothing');
  eq(t.columns.map((c) => c.name).sort(), ['id', ...TEXT_COLS].sort(), 'created_users columns');
  // Schema text 'text' is parsed as dataTypes.text (0x0a), as from Cassandra.
  const isText = (code) => code === types.dataTypes.text || code === types.dataTypes.varchar;
  for (const c of t.columns) {
    if (c.name === 'id' ? c.type.code !== types.dataTypes.uuid : !isText(c.type.code))
      fail(`column ${c.name}: type code ${c.type.code}`);
  }
  eq(t.partitionKeys.map((c) => c.name), ['id'], 'partition key');
  eq(t.clusteringKeys.length, 0, 'clustering keys');
  ok('metadata.getTable: 11 columns (id uuid, 10 text), partition key id');

  // A typed table with a DESC clustering column.
  await client.execute(`CREATE TABLE IF NOT EXISTS spark_streams.node_types (
      id uuid, seq int, name text, big bigint, ratio double, flag boolean, at timestamp,
      data blob, born date, tags set<text>, attrs map<text, int>, nums list<bigint>,
      PRIMARY KEY (id, seq)) WITH CLUSTERING ORDER BY (seq DESC)`);
  const nt = await client.metadata.getTable('spark_streams', 'node_types');
  if (!nt) fail('metadata.getTable(spark_streams, node_types) gave nothing');
  eq(nt.partitionKeys.map((c) => c.name), ['id'], 'node_types partition key');
  eq(nt.clusteringKeys.map((c) => c.name), ['seq'], 'node_types clustering key');
  eq(nt.clusteringOrder, ['DESC'], 'node_types clustering order');
  const byName = {};
  for (const c of nt.columns) byName[c.name] = c.type;
  eq(byName.tags.code, types.dataTypes.set, 'tags type');
  if (!isText(byName.tags.info.code)) fail(`tags element type ${byName.tags.info.code}`);
  eq(byName.attrs.code, types.dataTypes.map, 'attrs type');
  if (!isText(byName.attrs.info[0].code) || byName.attrs.info[1].code !== types.dataTypes.int)
    fail(`attrs key/value types ${byName.attrs.info[0].code}, ${byName.attrs.info[1].code}`);
  eq(byName.nums.code, types.dataTypes.list, 'nums type');
  eq(byName.born.code, types.dataTypes.date, 'born type');
  ok('metadata.getTable: clustering key seq DESC, collection types with their element types');

  // Prepared INSERT and SELECT of the seed's rows.
  const cols = ['id', ...TEXT_COLS];
  const insert = `INSERT INTO spark_streams.created_users (${cols.join(', ')}) ` +
    `VALUES (${cols.map(() => '?').join(', ')})`;
  const users = [];
  for (let i = 0; i < 25; i++) users.push(user(i));
  await Promise.all(users.map((u) =>
    client.execute(insert, cols.map((c) => u[c]), { prepare: true })));
  for (const u of users) {
    const rs = await client.execute('SELECT * FROM spark_streams.created_users WHERE id = ?', [u.id],
      { prepare: true });
    eq(rs.rows.length, 1, `rows for ${u.id}`);
    const r = rs.rows[0];
    if (!r.id.equals(u.id)) fail(`id ${r.id} != ${u.id}`);
    for (const c of TEXT_COLS) eq(r[c], u[c], `${u.id}.${c}`);
  }
  const cnt = await client.execute('SELECT count(*) FROM spark_streams.created_users');
  eq(cnt.columns.map((c) => [c.name, c.type.code]), [['count', types.dataTypes.bigint]], 'count(*) column');
  eq(cnt.rows[0].count.toString(), String(users.length), 'count(*)');
  ok(`${users.length} prepared INSERTs (concurrent) read back by a prepared SELECT; count(*) = ${users.length}`);

  const pid = types.Uuid.random();
  const N = 7;
  const row = (i) => ({
    id: pid,
    seq: i,
    name: `row ${i} ✓`,
    big: types.Long.fromString(i % 2 ? '-9223372036854775808' : '9223372036854775807'),
    ratio: i + 0.25,
    flag: i % 2 === 0,
    at: new Date(Date.UTC(2024, 0, 1 + i, 12, 30, 45, 123)),
    data: Buffer.from([0, 1, 2, 255, i]),
    born: new types.LocalDate(1999, 12, 31 - i),
    tags: [`a${i}`, `b${i}`],
    attrs: { one: 1, i },
    nums: [types.Long.fromNumber(i), types.Long.fromNumber(-i)],
  });
  const tcols = Object.keys(row(0));
  const tinsert = `INSERT INTO spark_streams.node_types (${tcols.join(', ')}) VALUES (${tcols.map(() => '?').join(', ')})`;
  // Half as a logged batch, half as an unlogged one.
  const queries = [];
  for (let i = 0; i < N; i++) queries.push({ query: tinsert, params: tcols.map((c) => row(i)[c]) });
  await client.batch(queries.slice(0, 4), { prepare: true, logged: true });
  await client.batch(queries.slice(4), { prepare: true, logged: false });
  ok(`${N} typed rows written by a logged and an unlogged batch of prepared INSERTs`);

  // Paging: fetchSize 3 over 7 rows, every row once, in DESC order.
  const seen = [];
  let pageState;
  let pages = 0;
  do {
    const rs = await client.execute('SELECT * FROM spark_streams.node_types WHERE id = ?', [pid],
      { prepare: true, fetchSize: 3, pageState });
    pages++;
    if (rs.rows.length > 3) fail(`page of ${rs.rows.length} rows with fetchSize 3`);
    for (const r of rs.rows) {
      const w = row(r.seq);
      eq(r.name, w.name, `name of ${r.seq}`);
      eq(r.big.toString(), w.big.toString(), `big of ${r.seq}`);
      eq(r.ratio, w.ratio, `ratio of ${r.seq}`);
      eq(r.flag, w.flag, `flag of ${r.seq}`);
      eq(r.at.getTime(), w.at.getTime(), `at of ${r.seq}`);
      eq(r.data.toString('hex'), w.data.toString('hex'), `data of ${r.seq}`);
      eq(r.born.toString(), w.born.toString(), `born of ${r.seq}`);
      eq(r.tags, w.tags, `tags of ${r.seq}`);
      eq(r.attrs, { i: r.seq, one: 1 }, `attrs of ${r.seq}`);
      eq(r.nums.map(String), w.nums.map(String), `nums of ${r.seq}`);
      seen.push(r.seq);
    }
    pageState = rs.pageState;
  } while (pageState);
  eq(seen, [6, 5, 4, 3, 2, 1, 0], 'rows over all pages');
  if (pages < 3) fail(`${pages} pages for 7 rows with fetchSize 3`);
  ok(`paging with fetchSize 3: ${pages} pages, every row once, in DESC order, every type intact`);

  // client.eachRow with autoPage, the driver's own paging loop.
  let each = 0;
  await new Promise((resolve, reject) => {
    client.eachRow('SELECT seq FROM spark_streams.node_types WHERE id = ?', [pid],
      { prepare: true, fetchSize: 2, autoPage: true }, () => each++,
      (err) => (err ? reject(err) : resolve()));
  });
  eq(each, N, 'eachRow with autoPage');
  ok('eachRow with autoPage and fetchSize 2 sees every row once');

  // Errors.
  const codes = types.responseErrorCodes;
  await expectError('SELECT * FORM spark_streams.created_users', [], codes.syntaxError,
    /^line 1:9 /, 'syntax error');
  await expectError('SELECT * FROM spark_streams.nosuch', [], codes.invalid,
    'unconfigured table nosuch', 'unknown table');
  await expectError('SELECT * FROM nosuch.t', [], codes.invalid,
    'Keyspace nosuch does not exist', 'unknown keyspace');
  await expectError('INSERT INTO spark_streams.created_users (id, nope) VALUES (?, ?)',
    [types.Uuid.random(), 'x'], codes.invalid, 'Undefined column name nope', 'unknown column');
  ok('errors: syntax error 0x2000 at line 1:9, unknown table/keyspace/column 0x2200');

  await client.shutdown();
  ok('shutdown');
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
