import type { z } from 'zod';
import { validationFailed, type ErrorDetail } from './errors.js';

const describePath = (path: PropertyKey[], where: string): string => [where, ...path.map(String)].filter(Boolean).join('.');

/** Turns zod issues into the `details` of a `validation_failed` error. */
export const issuesToDetails = (issues: z.core.$ZodIssue[], where = ''): ErrorDetail[] =>
  issues.flatMap((issue) => {
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((key) => ({
        path: describePath([...issue.path, key], where),
        message: 'is not a known field',
        code: 'unknown_field',
      }));
    }
    return [{ path: describePath(issue.path, where), message: issue.message, code: issue.code }];
  });

/** Parses `value` with `schema`, or throws a 400 `validation_failed` naming every bad field. */
export const parseOrThrow = <S extends z.ZodType>(schema: S, value: unknown, where = ''): z.infer<S> => {
  const result = schema.safeParse(value);
  if (!result.success) throw validationFailed(issuesToDetails(result.error.issues, where));
  return result.data;
};
