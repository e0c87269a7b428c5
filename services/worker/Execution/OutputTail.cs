using System.Text;

namespace Bus.Worker.Execution;

/// <summary>
/// The last <c>capacity</c> characters of a process's combined stdout and stderr. Jobs may print gigabytes;
/// only the tail is worth keeping. Thread-safe, because stdout and stderr arrive on different threads.
/// </summary>
public sealed class OutputTail(int capacity)
{
    readonly StringBuilder _text = new();
    readonly Lock _lock = new();

    public void AppendLine(string? line)
    {
        if (line is null)
            return;
        lock (_lock)
        {
            _text.Append(line).Append('\n');
            // Trim in chunks, not per line, so a chatty job does not pay a copy for every line.
            if (_text.Length > capacity * 2)
                _text.Remove(0, _text.Length - capacity);
        }
    }

    public override string ToString()
    {
        lock (_lock)
            return _text.Length > capacity ? _text.ToString(_text.Length - capacity, capacity) : _text.ToString();
    }
}
