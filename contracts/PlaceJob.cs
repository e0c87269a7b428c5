namespace Bus.Contracts;

/// <summary>Asks a pending job's saga to try placing it again, because capacity may have appeared.</summary>
public record PlaceJob(Guid JobId);
