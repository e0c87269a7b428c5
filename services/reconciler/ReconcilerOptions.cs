namespace Bus.Reconciler;

/// <summary>How often the periodic jobs run. Bound from the <c>Reconciler</c> section.</summary>
public sealed class ReconcilerOptions
{
    public const string Section = "Reconciler";

    /// <summary>
    /// How often Redis's reservations are compared with PostgreSQL's allocations and repaired (R5). Default 5 min.
    /// A difference is repaired once two runs in a row have seen it, so a reservation in flight is never touched:
    /// drift is gone within two intervals.
    /// </summary>
    public TimeSpan SyncInterval { get; set; } = TimeSpan.FromMinutes(5);
}
