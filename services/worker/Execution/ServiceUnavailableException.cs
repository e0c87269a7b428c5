namespace Bus.Worker.Execution;

/// <summary>
/// An executor throws this when its service (or the model behind it) cannot take work right now, e.g. a model that
/// failed to load (MODEL_NOT_AVAILABLE in the original design). It is not the job's fault: the runner reports the service
/// unavailable, so the scheduler skips this worker for it for a while, and hands the attempt back to be placed
/// elsewhere without counting a failure.
/// </summary>
public sealed class ServiceUnavailableException(string reason) : Exception(reason);
