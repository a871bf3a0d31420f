// The report's side-by-side view: one row per scenario and figure, one column per operator configuration (and the
// plain client's baseline where there is one). Pure: it reads the results and returns the table.

const FIGURES = [
  ['all worker pods exist (s)', (r) => r.allWorkerPodsSeconds],
  ['all workers Ready (s)', (r) => r.allWorkersReadySeconds],
  ['all launchers Running (s)', (r) => r.allLaunchersRunningSeconds],
  ['all Succeeded (s)', (r) => r.allSucceededSeconds],
  ["writes per job: the operator's own", (r) => r.writesPerJob?.operator],
  ["writes per job: its launcher Job's controller", (r) => r.writesPerJob?.launcherJobController],
  ['operator peak RSS (MiB)', (r) => r.operator?.peakRssMiB],
  ['operator peak anonymous RSS, sampled (MiB)', (r) => r.operator?.peakAnonMiB],
  ['operator file-backed RSS at the end (MiB)', (r) => r.operator?.fileMiB],
  ['operator CPU (s)', (r) => r.operator?.cpuSeconds],
  ['idle: operator writes', (r) => r.idle?.operatorWrites],
];

/**
 * @param scenarios the scenarios run (name, jobs, workers)
 * @param results { [configuration]: { [scenario]: result | { error } } }
 * @param baselines { [scenario]: { pods, createSeconds } }
 */
export function sideBySide(scenarios, results, baselines) {
  const rows = {};
  for (const s of scenarios) {
    const title = `${s.name} (${s.jobs} x ${s.workers})`;
    if (baselines[s.name]) {
      const b = baselines[s.name];
      rows[`${title}: plain client creates the same ${b.pods} pods (s)`] = { plainClient: b.createSeconds };
    }
    for (const [label, figure] of FIGURES) {
      const row = {};
      for (const [configuration, byScenario] of Object.entries(results)) {
        const value = byScenario[s.name] && !byScenario[s.name].error ? figure(byScenario[s.name]) : undefined;
        if (value !== undefined) row[configuration] = value;
      }
      if (Object.keys(row).length > 0) rows[`${title}: ${label}`] = row;
    }
  }
  return rows;
}
