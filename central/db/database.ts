import { drizzle } from "drizzle-orm/durable-sqlite";
import { migrate } from "drizzle-orm/durable-sqlite/migrator";
import migrations from "./migrations/migrations.js";
import * as schema from "./schema";

export type Database = ReturnType<typeof openDatabase>;

export function openDatabase(storage: DurableObjectStorage) {
  return drizzle(storage, { schema });
}

/** Applies pending migrations; drizzle records applied ones in `__drizzle_migrations`. */
export async function migrateDatabase(db: Database): Promise<void> {
  await migrate(db, migrations);
}
