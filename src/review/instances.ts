import type { Plan, ResourceChange } from './plan.ts';
import { pipelineTag } from './pipeline-resources.ts';

/**
 * Pipeline instances in a plan. An HCL root may call the module several
 * times (`module.orders_flatten`, `module.a`, ...); the CDKTF stack puts a
 * pipeline in the root module. A module address is an instance when one of
 * its resources carries the `ddb-flatten:pipeline` tag (every taggable
 * resource of the module does); untagged resources (aliases, policies,
 * Glue tables) belong to the instance of their module. In one module with
 * resources of several pipelines, the tag decides, and untagged ones go to
 * the pipeline when there is only one.
 */

export interface Instance {
  /** `module.orders_flatten`, or '' for the root module. */
  readonly moduleAddress: string;
  /** The pipeline's name (the tag's value). */
  readonly pipeline: string;
  /** Stable id: the module address, with the pipeline name when a module holds more than one. */
  readonly id: string;
  /** For people: `module.orders_flatten` (pipeline `orders`). */
  readonly label: string;
}

export interface Instances {
  readonly list: readonly Instance[];
  /** The instance a resource change belongs to, undefined when it is not part of a pipeline. */
  of(rc: ResourceChange): Instance | undefined;
}

export function findInstances(plan: Plan): Instances {
  // Drift counts too: a refresh-only plan has nothing else, and a resource deleted outside Terraform is tagged only there.
  const changes = [...(plan.resource_changes ?? []), ...(plan.resource_drift ?? [])];
  const pipelinesByModule = new Map<string, Set<string>>();
  for (const rc of changes) {
    const tag = pipelineTag(rc);
    if (tag === undefined) continue;
    const module = rc.module_address ?? '';
    if (!pipelinesByModule.has(module)) pipelinesByModule.set(module, new Set());
    pipelinesByModule.get(module)!.add(tag);
  }
  const list: Instance[] = [];
  const byKey = new Map<string, Instance>();
  for (const [module, pipelines] of pipelinesByModule) {
    for (const pipeline of pipelines) {
      const where = module === '' ? 'root module' : `\`${module}\``;
      const id = pipelines.size > 1 || module === '' ? `${module || 'root'}:${pipeline}` : module;
      const instance: Instance = { moduleAddress: module, pipeline, id, label: `${where} (pipeline \`${pipeline}\`)` };
      list.push(instance);
      byKey.set(`${module}\u0000${pipeline}`, instance);
    }
  }
  return {
    list,
    of(rc) {
      const module = rc.module_address ?? '';
      const tag = pipelineTag(rc);
      if (tag !== undefined) return byKey.get(`${module}\u0000${tag}`);
      const pipelines = pipelinesByModule.get(module);
      // A module call that is a pipeline holds nothing else; in the root, only a lone pipeline claims untagged resources.
      if (!pipelines || pipelines.size !== 1) return undefined;
      if (module === '' && !isPipelineType(rc)) return undefined;
      return byKey.get(`${module}\u0000${[...pipelines][0]!}`);
    },
  };
}

/** Untagged types the module creates, so root resources of those types belong to the root's pipeline. */
function isPipelineType(rc: ResourceChange): boolean {
  return /^aws_(lambda_|iam_role|glue_|s3_bucket|athena_|cloudwatch_|sqs_|dynamodb_|scheduler_)/.test(rc.type);
}
