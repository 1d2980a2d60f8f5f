namespace Kvasir.Kernels.Attention;

/// <summary>Element type of the keys and values stored in the KV cache.</summary>
public enum KvDataType
{
    /// <summary>IEEE single precision, 4 bytes per element.</summary>
    F32,

    /// <summary>IEEE half precision, 2 bytes per element (rounded to nearest even on write).</summary>
    F16,
}
