using System.Diagnostics.CodeAnalysis;
using System.Globalization;

namespace Bus.Gateway.Events;

/// <summary>
/// A position in the transition stream: the writing transaction's id and the row id, in the order streams deliver.
/// Sent as each event's <c>id:</c> ("xid-id"), so a client's <c>Last-Event-ID</c> resumes exactly after it.
/// </summary>
public readonly record struct EventCursor(ulong Xid, long Id) : IComparable<EventCursor>
{
    public int CompareTo(EventCursor other) => (Xid, Id).CompareTo((other.Xid, other.Id));

    public static bool operator >(EventCursor a, EventCursor b) => a.CompareTo(b) > 0;
    public static bool operator <(EventCursor a, EventCursor b) => a.CompareTo(b) < 0;

    public override string ToString() => $"{Xid}-{Id}";

    public static bool TryParse(string? text, [NotNullWhen(true)] out EventCursor? cursor)
    {
        cursor = null;
        var parts = text?.Split('-');
        if (parts is not [var xid, var id]
            || !ulong.TryParse(xid, NumberStyles.None, CultureInfo.InvariantCulture, out var x)
            || !long.TryParse(id, NumberStyles.None, CultureInfo.InvariantCulture, out var i))
            return false;
        cursor = new EventCursor(x, i);
        return true;
    }
}
