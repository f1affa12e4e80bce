/** Stops the servers that the global setup started (none when they were given in the environment). */
export default async function stopTestDependencies(): Promise<void> {
  const handles = globalThis.galionTestDependencies ?? [];
  globalThis.galionTestDependencies = undefined;
  await Promise.all(handles.map((handle) => handle.stop()));
}
