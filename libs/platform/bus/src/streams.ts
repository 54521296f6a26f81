import { SUBJECTS, streamNameOf, type ServiceName, type SubjectDefinition } from '@musubi/contracts';
import { DiscardPolicy, RetentionPolicy, StorageType, type JetStreamManager, type StreamConfig } from '@nats-io/jetstream';
import { nanos } from '@nats-io/transport-node';

/** Event subjects owned by a service, straight from the contracts. */
export function eventSubjectsOf(owner: ServiceName): string[] {
  return Object.entries(SUBJECTS as Record<string, SubjectDefinition>)
    .filter(([, d]) => d.kind === 'event' && d.owner === owner)
    .map(([s]) => s)
    .sort();
}

export interface StreamSettings {
  readonly replicas: number;
  /** How long events stay in the stream for consumers that were away. */
  readonly maxAgeDays?: number;
}

/**
 * Creates or updates the owner's stream so it captures exactly the owner's event
 * subjects. Request/reply subjects are never captured: a stream that caught a
 * request would answer it with a publish acknowledgement.
 */
export async function ensureStream(jsm: JetStreamManager, owner: ServiceName, settings: StreamSettings): Promise<string | null> {
  const subjects = eventSubjectsOf(owner);
  if (subjects.length === 0) return null;
  const name = streamNameOf(owner);
  const wanted: Partial<StreamConfig> & { name: string } = {
    name,
    subjects,
    retention: RetentionPolicy.Limits,
    storage: StorageType.File,
    discard: DiscardPolicy.Old,
    max_age: nanos((settings.maxAgeDays ?? 7) * 24 * 3600 * 1000),
    duplicate_window: nanos(10 * 60 * 1000),
    num_replicas: settings.replicas,
  };
  for (let attempt = 0; ; attempt++) {
    try {
      const info = await jsm.streams.info(name);
      const have = [...(info.config.subjects ?? [])].sort();
      if (have.join(',') !== subjects.join(',')) await jsm.streams.update(name, { ...info.config, subjects });
      return name;
    } catch (err) {
      if (!/stream not found/i.test((err as Error).message)) throw err;
    }
    try {
      await jsm.streams.add(wanted);
      return name;
    } catch (err) {
      // Another service created it between our look and our add: look again.
      if (attempt >= 2) throw err;
    }
  }
}
