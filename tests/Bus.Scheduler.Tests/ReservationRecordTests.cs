using Bus.Capacity.Ledger;
using Bus.Contracts;

namespace Bus.Scheduler.Tests;

/// <summary>
/// The reservation record's C# side. Its agreement with the Lua side (reservation_record.lua) is shown against real
/// Redis by CapacityLedgerTests, which reserve through the scripts and read the records back.
/// </summary>
public sealed class ReservationRecordTests
{
    [Fact]
    public void A_record_without_GPU_ids_is_four_numbers()
    {
        var record = new ReservationRecord(3, new ResourceVector(2, 512, 1));

        Assert.Equal("3 2 512 1", record.Format());
        var parsed = ReservationRecord.Parse("3 2 512 1");
        Assert.Equal((3, new ResourceVector(2, 512, 1)), (parsed.Attempt, parsed.Resources));
        Assert.Empty(parsed.GpuDevices);
    }

    [Fact]
    public void Bound_GPU_ids_are_a_fifth_field_and_survive_a_round_trip()
    {
        var record = new ReservationRecord(1, new ResourceVector(4, 0, 2), ["0", "3"]);

        Assert.Equal("1 4 0 2 0,3", record.Format());
        Assert.Equal(["0", "3"], ReservationRecord.Parse(record.Format()).GpuDevices);
    }

    [Theory]
    [InlineData("")]
    [InlineData("1 2 3")]
    [InlineData("1 2 3 4 0,1 extra")]
    [InlineData("1 -2 3 4")]
    [InlineData("one 2 3 4")]
    public void Anything_else_is_refused(string text) =>
        Assert.Throws<FormatException>(() => ReservationRecord.Parse(text));
}
