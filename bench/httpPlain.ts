/**
 * The plain baseline of bench/http.ts: a stored row by id from the same PostgreSQL server, over
 * Fastify and pg, with nothing else (no login, no encryption, no access rule, no audit). Same pool
 * size as Carewall's default. Loads the bench's patients into a database of its own, prints one
 * JSON line when ready and drops the database on SIGTERM.
 */
import Fastify from 'fastify';
import pg from 'pg';
import { clinic, type Loaded } from './httpData.js';

const admin = new pg.Client({ connectionString: process.env.DATABASE_URL });
await admin.connect();
const name = `carewall_plain_${process.pid}`;
await admin.query(`create database ${name}`);
const url = new URL(process.env.DATABASE_URL!);
url.pathname = `/${name}`;
const pool = new pg.Pool({ connectionString: url.toString(), max: 10 });
await pool.query('create table patient (id text primary key, body text not null)');
const loaded: Loaded = { patientIds: [], families: [] };
let n = 0;
for (const { patient } of clinic('Practitioner/plain')) {
  const id = `p${++n}`;
  await pool.query('insert into patient (id, body) values ($1, $2)', [id, JSON.stringify({ ...patient, id })]);
  loaded.patientIds.push(id);
  loaded.families.push(patient.name[0].family);
}
const app = Fastify();
app.get<{ Params: { id: string } }>('/fhir/Patient/:id', async (req, reply) => {
  const { rows } = await pool.query<{ body: string }>('select body from patient where id = $1', [req.params.id]);
  if (rows.length === 0) return reply.code(404).send();
  return reply.type('application/fhir+json').send(rows[0].body);
});
const address = await app.listen({ port: 0, host: '127.0.0.1' });
process.stdout.write(JSON.stringify({ base: `${address}/fhir`, token: 'none', practitioner: 'Practitioner/plain', ...loaded }) + '\n');
process.on('SIGTERM', () => {
  void (async () => {
    await app.close();
    await pool.end();
    await admin.query(`drop database ${name} with (force)`);
    await admin.end();
    process.exit(0);
  })();
});
