/**
 * History ⇄ proto JSON (the format `temporal workflow show --output json` and the UI download use).
 *
 * Not `historyToJSON`/`historyFromJSON` of @temporalio/common: in this install protobufjs is nested
 * twice (under @temporalio/common and @temporalio/proto, because the root holds protobufjs 7 for
 * another package), and common's protojson rejects proto's types ("type must be a Type"). The
 * protojson of the copy that defined the types works.
 */
import * as proto from '@temporalio/proto';
import { patchProtobufRoot } from '@temporalio/proto/lib/patch-protobuf-root';

type History = proto.temporal.api.history.v1.IHistory;

// eslint-disable-next-line @typescript-eslint/no-require-imports -- resolved beside @temporalio/proto's protobufjs (see above), which no static import can name
const protojson = require(require.resolve('protobufjs/ext/protojson', { paths: [require.resolve('@temporalio/proto')] })) as {
  toJson(type: unknown, message: unknown): unknown;
  fromJson(type: unknown, json: unknown, options?: { ignoreUnknownFields?: boolean }): unknown;
};
const historyType = (patchProtobufRoot(proto) as unknown as { lookupType(name: string): unknown }).lookupType('temporal.api.history.v1.History');

export function historyToJson(history: History): string {
  return JSON.stringify(protojson.toJson(historyType, proto.temporal.api.history.v1.History.fromObject(history)), null, 2);
}

/** Reads what historyToJson wrote (enum values as their full constant names). */
export function historyFromJson(json: unknown): History {
  const history = protojson.fromJson(historyType, json, { ignoreUnknownFields: true }) as History | null;
  if (!history?.events?.length) throw new TypeError('not a workflow history');
  return history;
}
