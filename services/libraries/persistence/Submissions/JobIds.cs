using UUIDNext;

namespace Bus.Persistence.Submissions;

/// <summary>
/// A job's id is a name-based UUID (version 5) of its tenant and requestId, so every path that accepts a submission,
/// HTTP or the bus, names the same job for the same key without asking anyone.
/// </summary>
public static class JobIds
{
    // This system's own namespace for the names below; fixed forever, or the same key would name another job.
    static readonly Guid Namespace = new("5d0c1f7e-3b8a-4c52-9f8e-2a6b7c1d4e90");

    /// <summary>The id of the job that (<paramref name="tenant"/>, <paramref name="requestId"/>) names. A newline
    /// separates the two: neither may hold one, so no other pair makes the same name.</summary>
    public static Guid ForRequest(string tenant, string requestId) => Uuid.NewNameBased(Namespace, $"{tenant}\n{requestId}");
}
