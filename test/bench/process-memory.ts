import { readdirSync, readFileSync } from 'node:fs';

/**
 * Resident memory (MB) of every process in the given process groups: a Dagster webserver or daemon
 * started by spawnServer leads its own group, and the code servers it spawns stay in it. RSS, the
 * figure the measurements used (shared pages count once per process, as `ps` shows them).
 */
export function processGroupsRssMb(groups: number[]): { mb: number; processes: number } {
  const wanted = new Set(groups);
  let kb = 0;
  let processes = 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // Field 5 of /proc/<pid>/stat is the process group; the name (field 2) may hold spaces, so
      // count from the closing parenthesis.
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const pgrp = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]);
      if (!wanted.has(pgrp)) continue;
      const rss = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${entry}/status`, 'utf8'));
      if (!rss) continue;
      kb += Number(rss[1]);
      processes++;
    } catch {
      // the process exited while we read it
    }
  }
  return { mb: kb / 1024, processes };
}
