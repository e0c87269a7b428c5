using System.Text;
using Bus.Gateway.Jobs;

namespace Bus.Gateway.Tests;

/// <summary>The list cursor: what the API hands out reads back, and nothing else does.</summary>
public sealed class CursorTests
{
    static string Base64(string text) => Convert.ToBase64String(Encoding.UTF8.GetBytes(text));

    [Fact]
    public void A_cursor_of_the_form_the_api_hands_out_reads_back_exactly()
    {
        var id = Guid.NewGuid();
        var time = new DateTimeOffset(2026, 12, 1, 8, 0, 0, TimeSpan.Zero).AddTicks(1234);

        Assert.True(JobStore.TryDecodeCursor(Base64($"{time.UtcTicks}:{id}"), out var decoded));
        Assert.Equal((time, id), (decoded.Time!.Value, decoded.Id));
    }

    [Fact]
    public void No_cursor_means_the_first_page()
    {
        Assert.True(JobStore.TryDecodeCursor(null, out var decoded));
        Assert.Null(decoded.Time);
    }

    [Theory]
    [InlineData("%%%")]
    [InlineData("AAAA")]
    public void Text_that_is_not_base64_of_a_cursor_is_refused(string cursor) =>
        Assert.False(JobStore.TryDecodeCursor(cursor, out _));

    [Theory]
    [InlineData("12")]
    [InlineData("12:not-a-guid")]
    [InlineData("12:00000000-0000-0000-0000-000000000000:extra")]
    [InlineData("99999999999999999999999:00000000-0000-0000-0000-000000000000")]
    [InlineData("9223372036854775807:00000000-0000-0000-0000-000000000000")]
    [InlineData("-5:00000000-0000-0000-0000-000000000000")]
    [InlineData(" 5:00000000-0000-0000-0000-000000000000")]
    public void A_cursor_with_bad_parts_or_ticks_out_of_range_is_refused(string content) =>
        Assert.False(JobStore.TryDecodeCursor(Base64(content), out _));

    [Fact]
    public void A_very_long_cursor_is_refused_before_decoding() =>
        Assert.False(JobStore.TryDecodeCursor(new string('A', 10_000), out _));
}
