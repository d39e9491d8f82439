/** The floor's one activity: it only tells the bench process that it ran (IPC, no I/O of its own). */
export function createFloorActivities(report: (id: string) => void) {
  return {
    noop(id: string): Promise<void> {
      report(id);
      return Promise.resolve();
    },
  };
}

export type FloorActivities = ReturnType<typeof createFloorActivities>;
