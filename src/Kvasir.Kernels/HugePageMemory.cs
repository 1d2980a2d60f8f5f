using System.Runtime.InteropServices;

namespace Kvasir.Kernels;

/// <summary>
/// Large native buffers (weights read into memory, the KV arena) aligned to 2 MiB and, on Linux, advised to the
/// kernel as transparent huge pages (<c>madvise(MADV_HUGEPAGE)</c>), so that streaming them takes one TLB entry per
/// 2 MiB instead of one per 4 KiB.
/// </summary>
/// <remarks>
/// Why: a decode step streams every weight once. With the weights in 4 KiB pages (a memory-mapped file) a stack of
/// L-shaped decode products read 6.1–6.3 GB/s for Q8_0 and 5.4–6.2 for F16 on the 2-core development machine; the
/// same bytes in a huge-page buffer read 6.3–6.6 and 6.2–7.1 (scratch harness, both copies in one process, passes
/// alternating). Where huge pages are unavailable (another OS, THP set to "never", no memory to compact) the buffer
/// is ordinary memory and everything works the same, only without that gain.
/// </remarks>
public static unsafe partial class HugePageMemory
{
    /// <summary>The alignment and the granule of a transparent huge page on x86-64 and arm64 Linux.</summary>
    public const long PageBytes = 2L << 20;

    private const int MadvHugePage = 14;

    /// <summary>
    /// Whether the OS can back buffers with transparent huge pages: Linux with
    /// /sys/kernel/mm/transparent_hugepage/enabled set to "always" or "madvise".
    /// </summary>
    public static bool IsAvailable { get; } = DetectAvailable();

    /// <summary>
    /// Allocates <paramref name="bytes"/> (rounded up to whole huge pages) aligned to <see cref="PageBytes"/>, not
    /// cleared, advised as huge pages where <see cref="IsAvailable"/>. Free it with <see cref="Free"/>.
    /// </summary>
    /// <exception cref="OutOfMemoryException">The memory is not there.</exception>
    public static byte* Allocate(long bytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(bytes);
        long rounded = Math.Max(PageBytes, (bytes + PageBytes - 1) / PageBytes * PageBytes);
        var p = (byte*)NativeMemory.AlignedAlloc((nuint)rounded, (nuint)PageBytes);
        if (IsAvailable)
        {
            // A failure only means 4 KiB pages: the buffer is valid either way.
            _ = MAdvise(p, (nuint)rounded, MadvHugePage);
        }

        return p;
    }

    /// <summary>Frees a buffer from <see cref="Allocate"/> (null is ignored).</summary>
    public static void Free(byte* p)
    {
        if (p != null)
        {
            NativeMemory.AlignedFree(p);
        }
    }

    private static bool DetectAvailable()
    {
        if (!OperatingSystem.IsLinux())
        {
            return false;
        }

        try
        {
            string mode = File.ReadAllText("/sys/kernel/mm/transparent_hugepage/enabled");
            return mode.Contains("[always]", StringComparison.Ordinal) || mode.Contains("[madvise]", StringComparison.Ordinal);
        }
        catch (IOException)
        {
            return false;
        }
        catch (UnauthorizedAccessException)
        {
            return false;
        }
    }

    [LibraryImport("libc", EntryPoint = "madvise")]
    private static partial int MAdvise(void* address, nuint length, int advice);
}
