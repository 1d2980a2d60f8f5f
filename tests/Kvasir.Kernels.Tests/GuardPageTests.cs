using System.Runtime.InteropServices;
using Kvasir.Kernels.Quant;

namespace Kvasir.Kernels.Tests;

/// <summary>
/// The kernels read nothing past a matrix: weights that end where an inaccessible page begins. A read past the end
/// (a kernel's vector load overrunning its last block, or a prefetch turned into a load) kills the test process,
/// which fails the run. The decode kernels' prefetches (<see cref="Simd.PrefetchAhead(void*, int)"/>) do run past
/// the end here; a prefetch never faults.
/// </summary>
public sealed unsafe partial class GuardPageTests : IDisposable
{
    private const int ProtNone = 0;
    private const int ProtReadWrite = 3;
    private const int MapPrivateAnonymous = 0x02 | 0x20;

    private readonly KernelThreadPool _pool = new(2);

    public static TheoryData<GgmlType> Types() => TestData.TypeData();

    public void Dispose() => _pool.Dispose();

    [Theory]
    [MemberData(nameof(Types))]
    public void Compute_WeightsEndingAtAnInaccessiblePage_ReadsNothingPastThem(GgmlType type)
    {
        if (!OperatingSystem.IsLinux())
        {
            return; // mmap and mprotect below are Linux's
        }

        const int rows = 19;
        const int cols = 512;
        var rng = new Random(90 + (int)type);
        var weights = new byte[rows * QuantTraits.RowBytes(type, cols)];
        for (int r = 0; r < rows; r++)
        {
            TestData.RandomRow(type, cols, rng).CopyTo(weights, r * QuantTraits.RowBytes(type, cols));
        }

        long page = Environment.SystemPageSize;
        long dataPages = (weights.Length + page - 1) / page;
        long mapped = (dataPages + 1) * page;
        byte* map = Mmap(null, (nuint)mapped, ProtReadWrite, MapPrivateAnonymous, -1, 0);
        Assert.True(map != (byte*)-1, "mmap failed");
        try
        {
            byte* guard = map + (dataPages * page);
            Assert.Equal(0, Mprotect(guard, (nuint)page, ProtNone));
            byte* start = guard - weights.Length;
            weights.CopyTo(new Span<byte>(start, weights.Length));
            var guarded = new ReadOnlySpan<byte>(start, weights.Length);

            foreach (int n in new[] { 1, 2, 4, 8, 16, 40 })
            {
                var x = TestData.Floats(rng, n * cols);
                foreach (var activations in new[] { MatMulActivations.Float, MatMulActivations.Int8 })
                {
                    var expected = new float[n * rows];
                    var actual = new float[n * rows];
                    MatMul.Compute(type, weights, rows, cols, x, expected, n, _pool, activations);
                    MatMul.Compute(type, guarded, rows, cols, x, actual, n, _pool, activations);
                    Assert.Equal(expected, actual);
                }
            }
        }
        finally
        {
            _ = Munmap(map, (nuint)mapped);
        }
    }

    [LibraryImport("libc", EntryPoint = "mmap")]
    private static partial byte* Mmap(void* address, nuint length, int protection, int flags, int fd, nint offset);

    [LibraryImport("libc", EntryPoint = "mprotect")]
    private static partial int Mprotect(void* address, nuint length, int protection);

    [LibraryImport("libc", EntryPoint = "munmap")]
    private static partial int Munmap(void* address, nuint length);
}
