namespace Bus.Hosting.Management;

/// <summary>
/// Where a background service (scheduler, reconciler, worker) answers <c>/health/live</c>, <c>/health/ready</c> and
/// <c>/metrics</c>. The gateway serves the same paths on its API address and ignores these settings.
/// </summary>
public sealed class ManagementOptions
{
    public const string Section = "Management";

    /// <summary>
    /// The TCP port. Defaults: scheduler 8091, reconciler 8092, worker 8093 (each service's appsettings.json); a
    /// second worker on the same host needs its own (<c>./bus up</c> gives worker-2 8094). 0 lets the system pick
    /// a free port, which the service logs at start-up; -1 turns the endpoints off.
    /// </summary>
    public int Port { get; set; } = -1;

    /// <summary>The address to listen on. Loopback by default, so metrics are not exposed beyond the host.</summary>
    public string Address { get; set; } = "127.0.0.1";
}
