import type { MigrationInterface, QueryRunner } from 'typeorm';

const VECTOR = (ids: boolean) =>
  `directory.user_search_vector(login_id, ARRAY[email, personal_email] || extra_emails, ARRAY[family_name, given_name, family_name_kana, given_name_kana, display_name${
    ids ? ', external_id, app_linking_id' : ''
  }])`;

/**
 * The users search also finds the external ID and the application-linking ID
 * (each word of them as a prefix, like the names). Postgres 15 cannot change a
 * generated column's expression, so the column and its GIN index are made anew.
 */
export class UsersSearchIds1795478400100 implements MigrationInterface {
  name = 'UsersSearchIds1795478400100';

  async up(q: QueryRunner): Promise<void> {
    await this.vector(q, true);
  }

  async down(q: QueryRunner): Promise<void> {
    await this.vector(q, false);
  }

  private async vector(q: QueryRunner, ids: boolean): Promise<void> {
    await q.query('DROP INDEX directory.users_search');
    await q.query(`ALTER TABLE directory.users DROP COLUMN search_vector, ADD COLUMN search_vector tsvector GENERATED ALWAYS AS (${VECTOR(ids)}) STORED`);
    await q.query(`CREATE INDEX users_search ON directory.users USING gin (search_vector) WHERE status <> 'purged'`);
  }
}
