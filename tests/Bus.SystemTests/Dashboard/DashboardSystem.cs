using Bus.SystemTests.Support;

namespace Bus.SystemTests.Dashboard;

/// <summary>
/// The whole system as an operator would watch it: every service logging JSON lines (as outside Development), the
/// worker's per-attempt lines at Debug so they show, and the gateway serving the dashboard. Shared by the browser
/// test and the structured-log test, which run one after the other on it.
/// </summary>
public sealed class DashboardSystem : IAsyncLifetime
{
    public RunningSystem System { get; } = new(new Dictionary<string, string>
    {
        ["Logging__Console__FormatterName"] = "json",
        ["Logging__LogLevel__Bus.Worker.Execution.JobRunner"] = "Debug",
        // Snapshots every second, so the charts' history has points within the test's time.
        ["Stats__RefreshInterval"] = "00:00:01",
    });

    public Task InitializeAsync() => System.InitializeAsync();

    public Task DisposeAsync() => System.DisposeAsync();
}

[CollectionDefinition(Name)]
public sealed class DashboardCollection : ICollectionFixture<DashboardSystem>
{
    public const string Name = "dashboard";
}
