/**
 * defs.yaml: the pipeline's component instance in its shard's defs/ folder. Dagster runs this
 * file through Jinja, so it is one fixed template: beside the component type and the data file's
 * name, only the pipeline's UUID and version number (both made by the service) go in, and each
 * is checked to be exactly that. Everything a user wrote stays in pipeline.json, which Dagster
 * never templates.
 */
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export const COMPONENT_TYPE = 'constellation_blocks.PipelineComponent';

export function defsYaml(pipelineId: string, version: number): string {
  if (!UUID.test(pipelineId)) throw new Error(`defs.yaml takes a pipeline UUID, not ${JSON.stringify(pipelineId)}`);
  if (!Number.isSafeInteger(version) || version < 1) throw new Error(`defs.yaml takes a version number, not ${JSON.stringify(version)}`);
  return [
    `# Pipeline ${pipelineId}, version ${version}: written by Constellation Agent. Settings are in pipeline.json.`,
    `type: ${COMPONENT_TYPE}`,
    'attributes:',
    '  pipeline_file: pipeline.json',
    '',
  ].join('\n');
}
