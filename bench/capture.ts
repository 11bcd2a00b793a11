import type { KyselyPlugin, PluginTransformQueryArgs, PluginTransformResultArgs, QueryId, QueryResult, RootOperationNode, UnknownRow } from 'kysely';
import type { Database } from '../src/db/index.js';

/**
 * Records the SQL text of every statement the app executes, as the driver receives it. The
 * floor copies these statements; the harness test compares the two so they cannot drift apart.
 */
export interface SqlCapture {
  /** The same database, with every executed statement recorded. Give it to buildApp. */
  database: Database;
  /** The statements recorded since the last call, in the order they finished. */
  take(): string[];
}

/**
 * Kysely shows plugins every query it builds, subqueries included (they are compiled on their
 * own when embedded); only a query that is executed comes back through transformResult, so a
 * statement counts once its result arrives.
 */
class RecordSql implements KyselyPlugin {
  readonly executed: string[] = [];
  readonly #built = new WeakMap<QueryId, string>();
  constructor(private readonly compile: (node: RootOperationNode, queryId: QueryId) => { sql: string }) {}

  transformQuery({ node, queryId }: PluginTransformQueryArgs): RootOperationNode {
    this.#built.set(queryId, this.compile(node, queryId).sql);
    return node;
  }

  async transformResult({ result, queryId }: PluginTransformResultArgs): Promise<QueryResult<UnknownRow>> {
    const text = this.#built.get(queryId);
    if (text !== undefined) this.executed.push(text);
    return result;
  }
}

export function captureSql(database: Database): SqlCapture {
  const executor = database.db.getExecutor();
  const recorder = new RecordSql((node, queryId) => executor.compileQuery(node, queryId));
  return {
    database: { ...database, db: database.db.withPlugin(recorder) },
    take: () => recorder.executed.splice(0),
  };
}
