import { extendZodWithOpenApi } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';

// Every schema in Galion comes from this `z`, so each one can describe itself in OpenAPI.
extendZodWithOpenApi(z);

export { z };

const characters = (value: string) => [...value].length;

// No text Galion stores may hold NUL (PostgreSQL refuses it); one pattern says so, and "not blank" too.
const NO_NUL = '^[^\\u0000]*$';
const NOT_BLANK_NO_NUL = '^[^\\u0000]*[^\\s\\u0000][^\\u0000]*$';

/**
 * A string bounded in characters (code points), as JSON Schema's minLength and maxLength and
 * PostgreSQL count them; zod's own min and max count UTF-16 units, so an emoji would count twice
 * and a value the document allows could be refused. NUL is refused. `trim` stores the value
 * trimmed, after the checks ran on what was sent (the document describes what is sent);
 * `nonBlank` refuses values of only whitespace.
 */
export const text = (bounds: { min?: number; max: number; trim?: boolean; nonBlank?: boolean }) => {
  const min = bounds.min ?? 0;
  const pattern = bounds.nonBlank ? NOT_BLANK_NO_NUL : NO_NUL;
  let schema = z
    .string()
    .refine((value) => characters(value) >= min, { message: `must be at least ${min} characters`, abort: true })
    .refine((value) => characters(value) <= bounds.max, { message: `must be at most ${bounds.max} characters`, abort: true })
    .regex(new RegExp(pattern), bounds.nonBlank ? 'must not be blank nor hold NUL characters' : 'must not hold NUL characters');
  if (bounds.trim) schema = schema.trim();
  return schema.openapi({ ...(min > 0 ? { minLength: min } : {}), maxLength: bounds.max, pattern });
};

const wholeNumber = (bounds: { min: number; max: number }) =>
  z
    .string()
    .regex(/^\d{1,9}$/, 'must be a whole number')
    .transform(Number)
    .pipe(z.number().int().min(bounds.min, `must be at least ${bounds.min}`).max(bounds.max, `must be at most ${bounds.max}`));
type WholeNumber = ReturnType<typeof wholeNumber>;

/**
 * A whole number in a query string ("20"), bounded. The document shows it as the integer it
 * is, with its range, so generated clients and fuzzers send what the route accepts.
 */
export function queryInteger(bounds: { min: number; max: number; default: number }): z.ZodDefault<WholeNumber>;
export function queryInteger(bounds: { min: number; max: number }): z.ZodOptional<WholeNumber>;
export function queryInteger(bounds: { min: number; max: number; default?: number }) {
  const described = { type: 'integer' as const, minimum: bounds.min, maximum: bounds.max, pattern: undefined };
  return bounds.default === undefined
    ? wholeNumber(bounds).optional().openapi(described)
    : wholeNumber(bounds)
        .default(bounds.default)
        .openapi({ ...described, default: bounds.default });
}
