import { describe, isNumberText, type AttributeValue } from '../flatten/attribute-value.ts';
import type { KeyType } from '../config/pipeline-config.ts';
import { parseMaintenance, type MaintenanceRequest, type MaintenanceTaskRequest } from './maintenance.ts';
import { keyText } from '../flatten/flatten.ts';
import type { ErasedKey } from '../maintenance/statements.ts';

/**
 * The actions the function answers when invoked directly (through its
 * alias), and their validation. A bad payload gets an error naming the
 * field and what is expected; nothing is started.
 */

export const ACTIONS = ['backfill', 'status', 'reflatten', 'redrive', 'compact', 'checkpoint', 'erase', 'maintenance-task'] as const;
export type ActionName = (typeof ACTIONS)[number];
/** The actions of the lake's maintenance: idempotent, resumed by the next run when one fails. */
export const MAINTENANCE_ACTIONS = ['compact', 'checkpoint', 'erase', 'maintenance-task'] as const satisfies readonly ActionName[];

export type ActionRequest =
  | { readonly action: 'backfill' }
  | { readonly action: 'status'; readonly exportArn: string }
  | { readonly action: 'reflatten'; readonly keys: readonly ItemKey[] }
  | { readonly action: 'redrive'; readonly maxMessages: number }
  | MaintenanceRequest
  | MaintenanceTaskRequest
  | EraseRequest;

/** {"action":"erase","keys":[…]}: a new erasure; {"action":"erase","continuation":N}: the run handed on, resuming the open ones. */
export interface EraseRequest {
  readonly action: 'erase';
  readonly keys?: readonly ErasedKey[];
  readonly continuation?: number;
}

export const MAX_ERASE_KEYS = 1000;

/** A key of the source table, as AttributeValues under the table's key attribute names. */
export type ItemKey = Record<string, AttributeValue>;

export const MAX_REFLATTEN_KEYS = 1000;
export const MAX_REDRIVE_MESSAGES = 100;

export class PayloadError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PayloadError';
  }
}

export interface KeySchema {
  readonly partitionKey: string;
  readonly partitionKeyType: KeyType;
  readonly sortKey?: string | undefined;
  readonly sortKeyType: KeyType;
}

const EXAMPLES: Record<ActionName, string> = {
  backfill: '{"action":"backfill"}',
  status: '{"action":"status","exportArn":"arn:aws:dynamodb:…:table/T/export/…"}',
  reflatten: '{"action":"reflatten","keys":[{"pk":"A1"},{"pk":"A2","sk":"x"}]}',
  redrive: '{"action":"redrive"} or {"action":"redrive","maxMessages":10}',
  compact: '{"action":"compact"} or {"action":"compact","dt":"2026-11-30"}',
  checkpoint: '{"action":"checkpoint"}',
  erase: '{"action":"erase","keys":[{"pk":"A1"},{"pk":"A2","sk":"x"}]} (a key without sk: every item of that pk)',
  'maintenance-task': '{"action":"maintenance-task",…} (sent by a 0.3.0 maintenance run to itself; answered and ignored since 0.4.0)',
};

function onlyFields(obj: Record<string, unknown>, allowed: readonly string[], where: string): void {
  for (const k of Object.keys(obj)) {
    if (!allowed.includes(k)) throw new PayloadError(`${where}.${k} is not a known field; allowed: ${allowed.join(', ')}`);
  }
}

/** A key value: plain text in the table's key type, or an AttributeValue such as {"N":"5"}. */
function keyValue(value: unknown, type: KeyType, where: string): AttributeValue {
  if (typeof value === 'string') {
    if (type === 'N' && !isNumberText(value)) throw new PayloadError(`${where} must be number text for a key of type N, got "${value}"`);
    if (value === '') throw new PayloadError(`${where} must not be empty`);
    return { [type]: value } as AttributeValue;
  }
  if (typeof value === 'number') throw new PayloadError(`${where}: write numbers as text ("${value}") so no digit is lost`);
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    const entries = Object.entries(value);
    const [t, v] = entries[0] ?? [];
    if (entries.length === 1 && (t === 'S' || t === 'N' || t === 'B') && typeof v === 'string' && v !== '') return { [t]: v } as AttributeValue;
  }
  throw new PayloadError(`${where} must be a string (the table's ${type} key) or an AttributeValue such as {"${type}":"…"}, got ${describe(value)}`);
}

function reflattenKeys(raw: unknown, schema: KeySchema): ItemKey[] {
  if (!Array.isArray(raw) || raw.length === 0) throw new PayloadError(`keys must be a non-empty array of keys such as {"pk":"A1"}, got ${describe(raw)}`);
  if (raw.length > MAX_REFLATTEN_KEYS) throw new PayloadError(`keys holds ${raw.length} keys; at most ${MAX_REFLATTEN_KEYS} per call`);
  const names = schema.sortKey === undefined ? ['pk'] : ['pk', 'sk'];
  return raw.map((k, i) => {
    const where = `keys[${i}]`;
    if (k === null || typeof k !== 'object' || Array.isArray(k)) throw new PayloadError(`${where} must be an object such as {"pk":"A1"}, got ${describe(k)}`);
    onlyFields(k as Record<string, unknown>, names, where);
    const key: ItemKey = { [schema.partitionKey]: keyValue((k as Record<string, unknown>).pk, schema.partitionKeyType, `${where}.pk`) };
    if (schema.sortKey !== undefined) {
      if (!('sk' in k)) throw new PayloadError(`${where}.sk is required: the table has the sort key "${schema.sortKey}"`);
      key[schema.sortKey] = keyValue((k as Record<string, unknown>).sk, schema.sortKeyType, `${where}.sk`);
    }
    return key;
  });
}

export function isActionPayload(event: unknown): event is { action: unknown } {
  return event !== null && typeof event === 'object' && !Array.isArray(event) && 'action' in event;
}

export function parseAction(event: unknown, schema: KeySchema): ActionRequest {
  if (!isActionPayload(event)) throw new PayloadError(`expected an object with "action" (${ACTIONS.join(', ')}), got ${describe(event)}`);
  const payload = event as Record<string, unknown>;
  const action = payload.action;
  if (typeof action !== 'string' || !(ACTIONS as readonly string[]).includes(action)) {
    throw new PayloadError(`action must be one of ${ACTIONS.join(', ')}, got ${describe(action)}`);
  }
  const name = action as ActionName;
  try {
    switch (name) {
      case 'backfill':
        onlyFields(payload, ['action'], 'payload');
        return { action: name };
      case 'status': {
        onlyFields(payload, ['action', 'exportArn'], 'payload');
        const arn = payload.exportArn;
        if (typeof arn !== 'string' || !/^arn:aws[a-z-]*:dynamodb:[a-z0-9-]+:\d{12}:table\/.+\/(export|import)\/[^/]+$/.test(arn)) {
          throw new PayloadError(`exportArn must be the ARN the backfill action returned (arn:aws:dynamodb:<region>:<account>:table/<table>/export/<id>), got ${describe(arn)}`);
        }
        return { action: name, exportArn: arn };
      }
      case 'reflatten':
        onlyFields(payload, ['action', 'keys'], 'payload');
        return { action: name, keys: reflattenKeys(payload.keys, schema) };
      case 'redrive': {
        onlyFields(payload, ['action', 'maxMessages'], 'payload');
        const max = payload.maxMessages ?? 10;
        if (typeof max !== 'number' || !Number.isInteger(max) || max < 1 || max > MAX_REDRIVE_MESSAGES) {
          throw new PayloadError(`maxMessages must be a whole number from 1 to ${MAX_REDRIVE_MESSAGES}, got ${describe(max)}`);
        }
        return { action: name, maxMessages: max };
      }
      case 'compact':
      case 'checkpoint':
      case 'maintenance-task':
        return parseMaintenance(payload);
      case 'erase':
        return parseErase(payload, schema);
    }
  } catch (error) {
    if (error instanceof PayloadError) throw new PayloadError(`bad "${name}" payload: ${error.message}. Example: ${EXAMPLES[name]}`);
    throw error;
  }
}

/** The keys of an erasure, as the lake's pk and sk columns hold them (keyText: S as is, N as stored, B base64). */
function parseErase(payload: Record<string, unknown>, schema: KeySchema): EraseRequest {
  onlyFields(payload, ['action', 'keys', 'continuation'], 'payload');
  if (payload.continuation !== undefined) {
    const n = payload.continuation;
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 1) throw new PayloadError(`continuation must be a whole number from 1 (sent by the erasure itself), got ${describe(n)}`);
    if (payload.keys !== undefined) throw new PayloadError('a continuation names no keys: it resumes the erasures in flight');
    return { action: 'erase', continuation: n };
  }
  const raw = payload.keys;
  if (!Array.isArray(raw) || raw.length === 0) throw new PayloadError(`keys must be a non-empty array of keys such as {"pk":"A1"}, got ${describe(raw)}`);
  if (raw.length > MAX_ERASE_KEYS) throw new PayloadError(`keys holds ${raw.length} keys; at most ${MAX_ERASE_KEYS} per erasure`);
  const keys = raw.map((k, i): ErasedKey => {
    const where = `keys[${i}]`;
    if (k === null || typeof k !== 'object' || Array.isArray(k)) throw new PayloadError(`${where} must be an object such as {"pk":"A1"}, got ${describe(k)}`);
    const o = k as Record<string, unknown>;
    onlyFields(o, schema.sortKey === undefined ? ['pk'] : ['pk', 'sk'], where);
    const pk = keyText(keyValue(o.pk, schema.partitionKeyType, `${where}.pk`), schema.partitionKey, where);
    if (o.sk === undefined) return { pk };
    return { pk, sk: keyText(keyValue(o.sk, schema.sortKeyType, `${where}.sk`), schema.sortKey!, where) };
  });
  return { action: 'erase', keys };
}
