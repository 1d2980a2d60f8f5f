using System.Globalization;
using Kvasir.Model.ChatTemplates;

namespace Kvasir.Model.Tests.ChatTemplates;

/// <summary>The Python formatting of floats that <c>{{ x }}</c> and <c>tojson</c> rely on.</summary>
public class TemplateValueTests
{
    // Python's repr() of the same doubles.
    [Theory]
    [InlineData(5e-324, "5e-324")]
    [InlineData(1.7976931348623157e308, "1.7976931348623157e+308")]
    [InlineData(0.1, "0.1")]
    [InlineData(1.0 / 3, "0.3333333333333333")]
    [InlineData(100.0, "100.0")]
    [InlineData(1e16, "1e+16")]
    [InlineData(9999999999999998.0, "9999999999999998.0")]
    [InlineData(1234567890123456.7, "1234567890123456.8")]
    [InlineData(-2.5e-5, "-2.5e-05")]
    [InlineData(1e-4, "0.0001")]
    [InlineData(123.456, "123.456")]
    [InlineData(1e21, "1e+21")]
    [InlineData(9007199254740992.0, "9007199254740992.0")]
    [InlineData(-0.0, "-0.0")]
    [InlineData(double.NaN, "nan")]
    [InlineData(double.NegativeInfinity, "-inf")]
    public void FloatReprMatchesPython(double value, string expected) => Assert.Equal(expected, TemplateValue.FloatRepr(value));

    [Fact]
    public void FloatReprRoundTripsAndUsesPythonsNotation()
    {
        var rng = new Random(1234);
        for (int i = 0; i < 10_000; i++)
        {
            double value = BitConverter.Int64BitsToDouble(rng.NextInt64());
            if (!double.IsFinite(value))
                continue;
            string repr = TemplateValue.FloatRepr(value);
            Assert.Equal(value, double.Parse(repr, CultureInfo.InvariantCulture));
            int exponent = value == 0 ? 0 : (int)Math.Floor(Math.Log10(Math.Abs(value)));
            bool scientific = repr.Contains('e', StringComparison.Ordinal);
            // Python switches to scientific notation below 1e-4 and from 1e16 on; the log10 estimate can be off by one at a boundary.
            if (exponent is > -4 and < 15)
                Assert.False(scientific, repr);
            else if (exponent is < -5 or > 16)
                Assert.True(scientific, repr);
            Assert.True(scientific || repr.Contains('.', StringComparison.Ordinal), repr);
        }
    }
}
