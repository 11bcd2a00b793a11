import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { loadConfig } from './config.js';
import { createDatabase } from './db/index.js';
import { createMigrator, migrateToLatest } from './db/migrator.js';
import { buildApp } from './app.js';
import { HttpError } from './shared/errors.js';
import { serve } from './server.js';
import { seedDemo } from './seed/demo.js';

const USAGE = `Usage: npm run cli -- <command>
  migrate                         apply every pending migration
  migrate status                  list migrations, applied or pending
  migrate down                    undo the last applied migration
  seed-demo [--force]             fill a fresh database with a demo platform and print its logins
  create-admin --username NAME --email EMAIL [--password PASSWORD]
                                  password from --password, ADMIN_PASSWORD, or a prompt
  serve                           start the server (same as npm start)`;

/** Reads a line from the terminal without echoing it. */
async function promptHidden(question: string): Promise<string> {
  if (!process.stdin.isTTY) {
    throw new Error('No password given: pass --password, set ADMIN_PASSWORD, or run in a terminal to be asked.');
  }
  const rl = createInterface({ input: process.stdin, output: process.stdout, terminal: true });
  const write = rl as unknown as { _writeToOutput: (s: string) => void };
  let asked = false;
  write._writeToOutput = (s: string) => {
    if (!asked) {
      process.stdout.write(s);
      asked = true;
    }
  };
  return new Promise((resolve) =>
    rl.question(question, (answer) => {
      rl.close();
      process.stdout.write('\n');
      resolve(answer);
    }),
  );
}

async function migrate(sub: string | undefined) {
  if (sub === 'status') return migrateStatus();
  if (sub === 'down') return migrateDown();
  if (sub !== undefined && sub !== 'up' && sub !== 'latest')
    throw new Error(`Unknown migrate command "${sub}": use migrate, migrate status or migrate down`);
  const config = loadConfig(process.env);
  const database = createDatabase(config.databaseUrl);
  try {
    const result = await migrateToLatest(database.db);
    const applied = result.results?.filter((r) => r.status === 'Success').map((r) => r.migrationName) ?? [];
    console.log(applied.length ? `Applied: ${applied.join(', ')}` : 'Nothing to apply: the database is up to date.');
  } finally {
    await database.close();
  }
}

const migratorFor = (database: ReturnType<typeof createDatabase>) => createMigrator(database.db);

async function migrateStatus() {
  const database = createDatabase(loadConfig(process.env).databaseUrl);
  try {
    const all = await migratorFor(database).getMigrations();
    for (const m of all)
      console.log(`${m.executedAt ? `applied ${m.executedAt.toISOString()}` : 'pending                          '}  ${m.name}`);
    const pending = all.filter((m) => !m.executedAt).length;
    console.log(pending === 0 ? 'Up to date.' : `${pending} pending.`);
  } finally {
    await database.close();
  }
}

async function migrateDown() {
  const database = createDatabase(loadConfig(process.env).databaseUrl);
  try {
    const result = await migratorFor(database).migrateDown();
    if (result.error) throw result.error instanceof Error ? result.error : new Error('migration failed');
    const undone = result.results?.filter((r) => r.status === 'Success').map((r) => r.migrationName) ?? [];
    console.log(undone.length ? `Undone: ${undone.join(', ')}` : 'Nothing to undo: no migration is applied.');
  } finally {
    await database.close();
  }
}

async function seed(argv: string[]) {
  const { values } = parseArgs({ args: argv, options: { force: { type: 'boolean' } } });
  const config = loadConfig(process.env);
  const database = createDatabase(config.databaseUrl);
  await migrateToLatest(database.db);
  const app = await buildApp(config, { database, logger: false });
  try {
    const logins = await seedDemo(app, { force: values.force === true, origin: config.publicUrl });
    console.log('Demo data created. Log in with:');
    for (const login of logins) console.log(`  ${login.role.padEnd(10)} ${login.username.padEnd(14)} ${login.password}`);
  } finally {
    await app.close();
  }
}

async function createAdmin(argv: string[]) {
  const { values } = parseArgs({
    args: argv,
    options: { username: { type: 'string' }, email: { type: 'string' }, password: { type: 'string' } },
  });
  if (!values.username || !values.email) throw new Error('create-admin needs --username and --email');
  const password = values.password ?? process.env.ADMIN_PASSWORD ?? (await promptHidden('Password: '));
  const config = loadConfig(process.env);
  const database = createDatabase(config.databaseUrl);
  await migrateToLatest(database.db);
  const app = await buildApp(config, { database, logger: false });
  try {
    const admin = await app.services.users.createAdmin({ username: values.username, email: values.email, password });
    console.log(`Admin "${admin.username}" created (id ${admin.id}).`);
  } catch (error) {
    if (error instanceof HttpError) {
      throw new Error(
        Object.entries(error.body)
          .map(([field, messages]) => `${field}: ${[messages].flat().join(' ')}`)
          .join('\n'),
      );
    }
    throw error;
  } finally {
    await app.close();
  }
}

async function main() {
  const [command, ...rest] = process.argv.slice(2);
  switch (command) {
    case 'migrate':
      return migrate(rest[0]);
    case 'create-admin':
      return createAdmin(rest);
    case 'seed-demo':
      return seed(rest);
    case 'serve':
      return serve();
    default:
      console.error(USAGE);
      process.exitCode = command ? 2 : 0;
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
