namespace Bus.Contracts;

/// <summary>
/// A worker reports that one of its services (or the model behind it) cannot take work for now, e.g. a model that
/// failed to load (MODEL_NOT_AVAILABLE in the original design). The scheduler then skips that worker for that service for
/// <c>Placement:UnavailableTtl</c> (30 s); repeated reports inside that window change nothing.
/// </summary>
/// <param name="Reason">What went wrong, in words for an operator; logged, not shown to users.</param>
public record ServiceUnavailable(string WorkerId, string Service, string Reason, DateTimeOffset At);
