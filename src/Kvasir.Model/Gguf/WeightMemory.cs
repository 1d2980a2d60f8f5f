namespace Kvasir.Model.Gguf;

/// <summary>Where a model's tensor data lives once the file is open.</summary>
public enum WeightMemory
{
    /// <summary><see cref="Resident"/> where the OS offers transparent huge pages (Linux), else <see cref="Mapped"/>.</summary>
    Auto = 0,

    /// <summary>
    /// Used in place in the memory-mapped file (4 KiB page-cache pages): nothing is copied, and processes that map the
    /// same file share its pages.
    /// </summary>
    Mapped,

    /// <summary>
    /// Read once into this process's memory, 2 MiB-aligned and advised as transparent huge pages: a decode step, which
    /// streams every weight, then needs one TLB entry per 2 MiB instead of one per 4 KiB. Costs the read at start-up
    /// (the file's page cache stays, but the kernel may reclaim it).
    /// </summary>
    Resident,
}
