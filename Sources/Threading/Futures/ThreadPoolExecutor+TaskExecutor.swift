extension ThreadPoolExecutor: TaskExecutor {
    /// Runs `job` on one of the pool's workers: what makes
    /// `Task(executorPreference: pool) { blockingCall() }` run `blockingCall` on the pool's threads
    /// instead of the cooperative pool's.
    ///
    /// A job is queued like submitted work (it may start a worker). Once the pool is shut down,
    /// broken or the process is exiting, jobs go to the global concurrent executor instead, so
    /// that no task is ever stranded.
    ///
    /// - Parameters:
    ///   - job: The job of a task that prefers this executor.
    public func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        do {
            try core.enqueue(.job(job))
        } catch {
            runElsewhere(job)
        }
    }
}

extension PoolCore {
    /// Runs a task's job on the calling worker, with the pool as the task's executor.
    func runJob(_ job: UnownedJob) {
        guard let owner else {
            runElsewhere(job)
            return
        }
        job.runSynchronously(on: owner.asUnownedTaskExecutor())
    }
}

/// Hands a job the pool will not run to the global concurrent executor.
func runElsewhere(_ job: UnownedJob) {
    globalConcurrentExecutor.enqueue(ExecutorJob(job))
}
