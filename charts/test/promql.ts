/** PromQL reading shared by the chart checks (charts/test) and the live checks (tests/observability). */

const KEYWORDS = new Set([
  'and',
  'or',
  'unless',
  'bool',
  'offset',
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'inf',
  'nan',
]);

/** Metric names a PromQL expression selects (not functions, labels, keywords or durations). */
export const metricNames = (expr: string): string[] => {
  let e = expr.replace(/"(?:[^"\\]|\\.)*"/g, '""');
  e = e.replace(/\{[^}]*\}/g, ' ');
  e = e.replace(/\[[^\]]*\]/g, ' ');
  e = e.replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ');
  const names: string[] = [];
  for (const [, name = '', call] of e.matchAll(/([a-zA-Z_:][a-zA-Z0-9_:]*)(\s*\()?/g)) {
    if (call || KEYWORDS.has(name.toLowerCase()) || /^[0-9.e+-]+$/.test(name)) continue;
    names.push(name);
  }
  return [...new Set(names)];
};
