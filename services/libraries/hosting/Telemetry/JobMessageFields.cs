using System.Reflection;

namespace Bus.Hosting.Telemetry;

/// <summary>
/// The job fields of a message type, looked up once per type: <c>Guid JobId</c>, <c>int Attempt</c> and
/// <c>string WorkerId</c>, which every job message of the contracts names alike. Null where the type has none.
/// </summary>
static class JobMessageFields<T>
{
    public static readonly PropertyInfo? JobId = Find("JobId", typeof(Guid));
    public static readonly PropertyInfo? Attempt = Find("Attempt", typeof(int));
    public static readonly PropertyInfo? WorkerId = Find("WorkerId", typeof(string));

    static PropertyInfo? Find(string name, Type type) =>
        typeof(T).GetProperty(name, BindingFlags.Public | BindingFlags.Instance) is { } p && p.PropertyType == type ? p : null;
}
