export * from './cursor.js';
export * from './page.js';
