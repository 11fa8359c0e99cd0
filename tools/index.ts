import type { z } from 'zod';
import { getBlockType, searchBlockTypes } from './definitions/catalog.ts';
import { compileCodeRepository, getCodeCompile } from './definitions/code-repos.ts';
import { deployPipeline, getRunLogs, launchRun, listEnvironments, pipelineStatusTool, terminateRun } from './definitions/operations.ts';
import { compilePipelineTool, deletePipeline, editPipeline, getPipeline, listPipelines, proposePipeline, validatePipeline } from './definitions/pipelines.ts';
import { runGetBlockType, runSearchBlockTypes } from './execute/catalog.ts';
import { runCompileCodeRepository, runGetCodeCompile } from './execute/code-repos.ts';
import { checkRunsPipelineExists, runDeployPipeline, runGetRunLogs, runLaunchRun, runListEnvironments, runPipelineStatus, runTerminateRun } from './execute/operations.ts';
import { checkPipelineExists, runCompilePipeline, runDeletePipeline, runEditPipeline, runGetPipeline, runListPipelines, runProposePipeline, runValidatePipeline } from './execute/pipelines.ts';
import { setTriggerState } from './definitions/triggers.ts';
import { backfillPipeline } from './definitions/backfills.ts';
import { runBackfillPipeline } from './execute/backfills.ts';
import { runSetTriggerState } from './execute/triggers.ts';
import { inspectSource } from './definitions/inspection.ts';
import { runInspectSource } from './execute/inspection.ts';
import type { Tool, ToolContext, ToolDefinition } from './tool.ts';

/** Pairs a definition with its behaviour, checking that the two agree on input and output. */
function tool<I extends z.ZodObject, O extends z.ZodObject>(
  definition: ToolDefinition<I, O>,
  execute: (input: z.infer<I>, ctx: ToolContext) => Promise<z.input<O>>,
  precheck?: (input: z.infer<I>, ctx: ToolContext) => Promise<void>,
): Tool {
  return { ...definition, execute: execute as Tool['execute'], ...(precheck ? { precheck } : {}) } as unknown as Tool;
}

/** Every tool, in the order a model should meet them: find blocks, shape a pipeline, ship it, watch it. */
export const TOOLS: Tool[] = [
  tool(searchBlockTypes, runSearchBlockTypes),
  tool(getBlockType, runGetBlockType),
  tool(inspectSource, runInspectSource),
  tool(compileCodeRepository, runCompileCodeRepository),
  tool(getCodeCompile, runGetCodeCompile),
  tool(validatePipeline, runValidatePipeline),
  tool(proposePipeline, runProposePipeline),
  tool(editPipeline, runEditPipeline),
  tool(getPipeline, runGetPipeline),
  tool(listPipelines, runListPipelines),
  tool(compilePipelineTool, runCompilePipeline),
  tool(listEnvironments, runListEnvironments),
  tool(deployPipeline, runDeployPipeline),
  tool(launchRun, runLaunchRun),
  tool(backfillPipeline, runBackfillPipeline),
  tool(pipelineStatusTool, runPipelineStatus),
  tool(getRunLogs, runGetRunLogs),
  tool(terminateRun, runTerminateRun, checkRunsPipelineExists),
  tool(setTriggerState, runSetTriggerState),
  tool(deletePipeline, runDeletePipeline, checkPipelineExists),
];

export type { Tool, ToolContext, ToolDefinition, ToolGroup } from './tool.ts';
