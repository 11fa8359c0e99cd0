import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import rules from '../../src/pipelines/dagster-names.json' with { type: 'json' };
import { VENV_BIN } from '../support/dagster-server.ts';

// src/pipelines/dagster-names.json is written by scripts/dagster-names.sh from the pinned Dagster.
// This reads the same facts from .venv on its own and checks the file still says them.

const READ = `
import json, keyword, sys, zoneinfo
from importlib.metadata import version
from dagster._core.definitions.utils import DISALLOWED_NAMES, VALID_NAME_REGEX_STR, check_valid_name
from dagster._core.definitions.partitions.utils.base import INVALID_PARTITION_SUBSTRINGS
def _loads_from_tzdata(name):
    import importlib.resources
    try:
        return importlib.resources.files("tzdata.zoneinfo").joinpath(*name.split("/")).is_file()
    except Exception:
        return False
print(json.dumps({
    "dagster_version": version("dagster"),
    "python_version": "%d.%d" % sys.version_info[:2],
    "disallowed_names": sorted(DISALLOWED_NAMES),
    "valid_name_regex": VALID_NAME_REGEX_STR,
    "python_keywords": sorted(set(keyword.kwlist) | set(keyword.softkwlist)),
    "invalid_partition_substrings": list(INVALID_PARTITION_SUBSTRINGS),
    "tzdata_version": version("tzdata"),
    # Every zone that zoneinfo can load without a system zoneinfo directory: tzdata's own.
    "time_zones": sorted(z for z in zoneinfo.available_timezones() if _loads_from_tzdata(z)),
    # Dagster sets no length limit on names: ID_MAX_LENGTH (63) is this service's own choice.
    "long_name_accepted": check_valid_name("a" * 1000) == "a" * 1000,
}))
`;

describe('Dagster naming rules', () => {
  it('in the checked-in file are those of the Dagster in .venv (else run scripts/dagster-names.sh)', () => {
    const run = spawnSync(join(VENV_BIN, 'python'), ['-c', READ], { encoding: 'utf8', env: { ...process.env, DAGSTER_DISABLE_TELEMETRY: '1' } });
    expect(run.status, run.stderr).toBe(0);
    const { long_name_accepted: longNameAccepted, ...installed } = JSON.parse(run.stdout);
    const { generated_by: _by, ...checkedIn } = rules;
    expect(checkedIn).toEqual(installed);
    expect(longNameAccepted).toBe(true);
  });

  it('are the about 50 names the issue expects, context and config among them', () => {
    expect(rules.dagster_version).toBe('1.13.27');
    expect(rules.disallowed_names.length).toBeGreaterThanOrEqual(45);
    expect(rules.disallowed_names).toEqual(expect.arrayContaining(['context', 'config', 'input', 'output', 'meta', 'arg_dict']));
    expect(rules.valid_name_regex).toBe('^[A-Za-z0-9_]+$');
  });
});
