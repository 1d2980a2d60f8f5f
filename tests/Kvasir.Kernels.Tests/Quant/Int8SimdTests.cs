using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Kvasir.Kernels.Quant;

namespace Kvasir.Kernels.Tests.Quant;

/// <summary>
/// The 512-bit integer operations of <see cref="Int8Simd"/> against scalar definitions of the instructions. On an AVX2
/// machine these run the emulated branch (two 256-bit halves); on AVX-512 hardware the same tests hold the native one.
/// </summary>
public sealed class Int8SimdTests
{
    private const int Rounds = 200;

    [Fact]
    public void MultiplyAddAdjacentBytes_IsVpmaddubsw_SaturatingPairs()
    {
        if (!Avx2.IsSupported)
        {
            return; // the kernels that use these run only with AVX2
        }

        var rng = new Random(1);
        for (int round = 0; round < Rounds; round++)
        {
            var u = RandomBytes(rng);
            var s = RandomBytes(rng).AsSByte();
            if (round == 0)
            {
                u = Vector512.Create((byte)255);
                s = Vector512.Create((sbyte)127); // 2 · 255 · 127 saturates to 32767
            }

            var actual = Int8Simd.MultiplyAddAdjacent(u, s);
            for (int i = 0; i < 32; i++)
            {
                int pair = (u[2 * i] * s[2 * i]) + (u[(2 * i) + 1] * s[(2 * i) + 1]);
                Assert.Equal((short)Math.Clamp(pair, short.MinValue, short.MaxValue), actual[i]);
            }
        }
    }

    [Fact]
    public void MultiplyAddAdjacentShorts_IsVpmaddwd()
    {
        if (!Avx2.IsSupported)
        {
            return;
        }

        var rng = new Random(2);
        for (int round = 0; round < Rounds; round++)
        {
            var a = RandomBytes(rng).AsInt16();
            var b = RandomBytes(rng).AsInt16();
            if (round == 0)
            {
                a = Vector512.Create(short.MinValue);
                b = Vector512.Create(short.MinValue); // 2 · 2^30 wraps to int.MinValue
            }

            var actual = Int8Simd.MultiplyAddAdjacent(a, b);
            for (int i = 0; i < 16; i++)
            {
                long pair = ((long)a[2 * i] * b[2 * i]) + ((long)a[(2 * i) + 1] * b[(2 * i) + 1]);
                Assert.Equal(unchecked((int)pair), actual[i]);
            }
        }
    }

    [Fact]
    public void DotSum_IsTheExactSumOfFourProducts_WhenNoPairSaturates()
    {
        if (!Avx2.IsSupported)
        {
            return;
        }

        var rng = new Random(3);
        for (int round = 0; round < Rounds; round++)
        {
            // The kernels' operand ranges (see Int8Simd's remarks): unsigned ≤ 128, signed activations in [-127, 127],
            // the corners included in the first rounds.
            var u = new byte[64];
            var s = new sbyte[64];
            for (int i = 0; i < 64; i++)
            {
                u[i] = round switch { 0 => 128, 1 => 128, 2 => 63, _ => (byte)rng.Next(129) };
                s[i] = round switch { 0 => 127, 1 => -127, 2 => -127, _ => (sbyte)rng.Next(-127, 128) };
            }

            var u512 = Vector512.Create(u);
            var s512 = Vector512.Create(s);
            var actual = Int8Simd.DotSum(u512, s512);
            var lower = Int8Simd.DotSum(u512.GetLower(), s512.GetLower());
            var upper = Int8Simd.DotSum(u512.GetUpper(), s512.GetUpper());
            for (int i = 0; i < 16; i++)
            {
                int exact = 0;
                for (int k = 4 * i; k < (4 * i) + 4; k++)
                {
                    exact += u[k] * s[k];
                }

                Assert.Equal(exact, actual[i]);
                Assert.Equal(exact, i < 8 ? lower[i] : upper[i - 8]);
            }
        }
    }

    [Fact]
    public void DotSum_WithoutVnni_SaturatesOutsideItsRequirement()
    {
        // Why the requirement is stated: where a pair sum leaves int16, vpmaddubsw saturates and vpdpbusd does not, so
        // the two branches would differ. 255 · 127 · 2 per pair, two pairs: the exact sum is 129540.
        if (!Avx2.IsSupported || AvxVnni.IsSupported)
        {
            return;
        }

        var sum = Int8Simd.DotSum(Vector256.Create((byte)255), Vector256.Create((sbyte)127));
        Assert.Equal(2 * short.MaxValue, sum[0]);
    }

    [Fact]
    public void QuantizedActivations_StayWithin127_SoNoPairSaturates()
    {
        // The signed operand of every integer dot is a Q8_0 or Q8_K activation; with |a| ≤ 127 and unsigned operands ≤ 128
        // (Q8_0's |w|; Q4: 15, Q5: 31, Q6: 63) a pair sums to at most 2 · 128 · 127 = 32512 ≤ 32767.
        Assert.True(2 * 128 * 127 <= short.MaxValue);
        var rng = new Random(4);
        foreach (var type in new[] { GgmlType.Q8_0, GgmlType.Q8_K })
        {
            int blockSize = QuantTraits.Get(type).BlockSize;
            for (int round = 0; round < 50; round++)
            {
                var x = TestData.Floats(rng, 4 * blockSize, round % 2 == 0 ? 1 : 1e4f);
                x[rng.Next(x.Length)] = round % 3 == 0 ? -1e5f : 1e5f; // one dominant element, either sign
                x[rng.Next(x.Length)] = -x[rng.Next(x.Length)];
                var bytes = new byte[QuantTraits.RowBytes(type, x.Length)];
                Quantize.Row(type, x, bytes);
                for (int b = 0; b < 4; b++)
                {
                    int quantsAt = type == GgmlType.Q8_0 ? (b * BlockQ8_0.BlockBytes) + 2 : (b * BlockQ8_K.BlockBytes) + 4;
                    for (int j = 0; j < blockSize; j++)
                    {
                        Assert.NotEqual(-128, (sbyte)bytes[quantsAt + j]);
                    }
                }
            }
        }
    }

    [Fact]
    public void Abs_IsVpabsb()
    {
        if (!Avx2.IsSupported)
        {
            return;
        }

        var rng = new Random(5);
        for (int round = 0; round < Rounds; round++)
        {
            var a = RandomBytes(rng).AsSByte();
            var actual = Int8Simd.Abs(a);
            for (int i = 0; i < 64; i++)
            {
                Assert.Equal((byte)Math.Abs((int)a[i]), actual[i]);
            }
        }
    }

    [Fact]
    public void Sign_IsPsignb()
    {
        if (!Avx2.IsSupported)
        {
            return;
        }

        var rng = new Random(6);
        for (int round = 0; round < Rounds; round++)
        {
            var a = RandomBytes(rng).AsSByte();
            var s = RandomBytes(rng).AsSByte();
            if (round % 2 == 0)
            {
                s = Vector512.Min(Vector512.Max(s, Vector512.Create((sbyte)-1)), Vector512.Create((sbyte)1)); // zeros appear
            }

            var actual = Int8Simd.Sign(a, s);
            for (int i = 0; i < 64; i++)
            {
                sbyte expected = s[i] < 0 ? unchecked((sbyte)-a[i]) : s[i] == 0 ? (sbyte)0 : a[i];
                Assert.Equal(expected, actual[i]);
            }
        }
    }

    [Fact]
    public void SignForProduct_IsPsignbWhereverTheOtherFactorIsNotZero_AndCombineConcatenates()
    {
        if (!Avx2.IsSupported)
        {
            return;
        }

        var rng = new Random(7);
        for (int round = 0; round < Rounds; round++)
        {
            var a = RandomBytes(rng).AsSByte();
            var s = RandomBytes(rng).AsSByte();
            if (round % 2 == 0)
            {
                s = Vector512.Min(Vector512.Max(s, Vector512.Create((sbyte)-1)), Vector512.Create((sbyte)1)); // zeros appear
            }

            var actual = Int8Simd.SignForProduct(a, s);
            var sign = Int8Simd.Sign(a, s);
            for (int i = 0; i < 64; i++)
            {
                // Where s = 0 the lane is multiplied by |s| = 0: any value gives the same product.
                Assert.Equal(sign[i] * Math.Abs((int)s[i]), actual[i] * Math.Abs((int)s[i]));
                if (s[i] != 0)
                {
                    Assert.Equal(sign[i], actual[i]);
                }
            }

            var combined = Int8Simd.Combine(a.GetLower().AsByte(), s.GetUpper().AsByte());
            Assert.Equal(Vector512.Create(a.GetLower().AsByte(), s.GetUpper().AsByte()), combined);
        }
    }

    [Fact]
    public void ShuffleInLanes_IsVpshufb_WithinEach128BitLane()
    {
        if (!Avx2.IsSupported)
        {
            return;
        }

        var rng = new Random(7);
        for (int round = 0; round < Rounds; round++)
        {
            var value = RandomBytes(rng);
            var indices = RandomBytes(rng); // bit 7 set about half the time: those bytes become 0
            var actual = Int8Simd.ShuffleInLanes(value, indices);
            for (int i = 0; i < 64; i++)
            {
                int lane = i / 16;
                byte expected = (indices[i] & 0x80) != 0 ? (byte)0 : value[(16 * lane) + (indices[i] & 15)];
                Assert.Equal(expected, actual[i]);
            }
        }
    }

    [Fact]
    public void HorizontalAdd_IsVphaddd_WithinEach128BitLane()
    {
        if (!Avx2.IsSupported)
        {
            return;
        }

        var rng = new Random(8);
        for (int round = 0; round < Rounds; round++)
        {
            var x = RandomBytes(rng).AsInt32();
            var y = RandomBytes(rng).AsInt32();
            var actual = Int8Simd.HorizontalAdd(x, y);
            for (int lane = 0; lane < 4; lane++)
            {
                int at = 4 * lane;
                Assert.Equal(unchecked(x[at] + x[at + 1]), actual[at]);
                Assert.Equal(unchecked(x[at + 2] + x[at + 3]), actual[at + 1]);
                Assert.Equal(unchecked(y[at] + y[at + 1]), actual[at + 2]);
                Assert.Equal(unchecked(y[at + 2] + y[at + 3]), actual[at + 3]);
            }
        }
    }

    [Fact]
    public void InAllLanes_RepeatsTheEightShorts()
    {
        var scales = Vector128.Create((short)1, 2, 3, 4, 5, 6, -7, 300);
        var actual = Int8Simd.InAllLanes(scales).AsInt16();
        for (int i = 0; i < 32; i++)
        {
            Assert.Equal(scales[i % 8], actual[i]);
        }
    }

    private static Vector512<byte> RandomBytes(Random rng)
    {
        var bytes = new byte[64];
        rng.NextBytes(bytes);
        return Vector512.Create(bytes);
    }
}
