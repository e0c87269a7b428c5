using System.Globalization;
using Bus.Contracts;

namespace Bus.Capacity.Ledger;

/// <summary>
/// One attempt's reservation as a worker's jobs hash holds it, under the job id: <c>"attempt cpus memoryMb gpus"</c>,
/// then the bound GPU device ids (<c>"0,1"</c>) when the reservation took some. The one C# place that writes and reads
/// the record; its Lua side is <c>Redis/Scripts/reservation_record.lua</c>, and the two change together.
/// </summary>
public readonly record struct ReservationRecord(int Attempt, ResourceVector Resources, IReadOnlyList<string> GpuDevices)
{
    public ReservationRecord(int attempt, ResourceVector resources) : this(attempt, resources, []) { }

    public string Format()
    {
        var counts = string.Create(CultureInfo.InvariantCulture, $"{Attempt} {Resources.Cpus} {Resources.MemoryMb} {Resources.Gpus}");
        return GpuDevices.Count == 0 ? counts : $"{counts} {string.Join(',', GpuDevices)}";
    }

    /// <summary>Parses a record as <c>reservation_record.lua</c> writes it; throws <see cref="FormatException"/> on anything else.</summary>
    public static ReservationRecord Parse(string record)
    {
        var parts = record.Split(' ');
        if (parts.Length is not (4 or 5))
            throw new FormatException($"not a reservation record: '{record}'");
        var numbers = parts.Take(4).Select(p => int.Parse(p, NumberStyles.None, CultureInfo.InvariantCulture)).ToArray();
        return new ReservationRecord(numbers[0], new ResourceVector(numbers[1], numbers[2], numbers[3]),
            parts.Length == 5 ? parts[4].Split(',', StringSplitOptions.RemoveEmptyEntries) : []);
    }
}
