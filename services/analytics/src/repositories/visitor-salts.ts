import { randomBytes } from 'node:crypto';
import type { Knex } from '@galion/kit';

/** The daily salts of visitor hashes, shared by every replica. */
export class VisitorSaltRepository {
  constructor(private readonly knex: Knex) {}

  /** The salt of a UTC day (`YYYY-MM-DD`), made by whichever replica asks first. */
  async saltOf(day: string): Promise<Buffer> {
    // A replica making the same day's salt at the same instant commits after this statement's
    // snapshot: then a second statement sees its salt.
    return (await this.makeOrRead(day)) ?? (await this.makeOrRead(day)) ?? Promise.reject(new Error(`no visitor salt for ${day}`));
  }

  private async makeOrRead(day: string): Promise<Buffer | undefined> {
    const { rows } = await this.knex.raw<{ rows: { salt: Buffer }[] }>(
      `WITH made AS (
         INSERT INTO visitor_salts (day, salt) VALUES (?::date, ?) ON CONFLICT (day) DO NOTHING RETURNING salt
       )
       SELECT salt FROM made UNION ALL SELECT salt FROM visitor_salts WHERE day = ?::date LIMIT 1`,
      [day, randomBytes(32), day],
    );
    return rows[0]?.salt;
  }

  /** Deletes the salts of days before `day`: their hashes can no longer be recomputed. */
  async deleteBefore(day: string): Promise<number> {
    return this.knex('visitor_salts').where('day', '<', day).delete();
  }
}
