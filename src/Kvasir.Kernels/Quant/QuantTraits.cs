namespace Kvasir.Kernels.Quant;

/// <summary>
/// The storage facts of one tensor element type: how many elements a block holds and how many bytes it
/// takes. Quant types are data: one row per supported type in <see cref="Table"/>, one file per type with
/// its block layout, scalar reference and SIMD paths (<see cref="BlockQ4_0"/>, <see cref="RowF16"/>, ...).
/// </summary>
/// <param name="Type">The ggml type id.</param>
/// <param name="Name">ggml's name for the type (<c>"q4_K"</c>, <c>"f16"</c>, ...).</param>
/// <param name="BlockSize">Elements per block (1 for the float types).</param>
/// <param name="BlockBytes">Bytes per block.</param>
public readonly record struct QuantTraits(GgmlType Type, string Name, int BlockSize, int BlockBytes)
{
    /// <summary>One row per supported type, indexed by the type id; unsupported ids hold a default row.</summary>
    private static readonly QuantTraits[] Table = BuildTable();

    /// <summary>Looks up the traits of <paramref name="type"/>; false if Kvasir cannot compute with it.</summary>
    public static bool TryGet(GgmlType type, out QuantTraits traits)
    {
        if ((uint)type < (uint)Table.Length && Table[(int)type].BlockSize != 0)
        {
            traits = Table[(int)type];
            return true;
        }

        traits = default;
        return false;
    }

    /// <summary>The traits of <paramref name="type"/>.</summary>
    /// <exception cref="ArgumentException">Kvasir does not support <paramref name="type"/>.</exception>
    public static QuantTraits Get(GgmlType type) =>
        TryGet(type, out var traits) ? traits : throw Unsupported(type, nameof(type));

    /// <summary>Whether Kvasir can dequantize, multiply and dot rows of <paramref name="type"/>.</summary>
    public static bool IsSupported(GgmlType type) => TryGet(type, out _);

    /// <summary>Bytes of a row of <paramref name="elements"/> elements of <paramref name="type"/>.</summary>
    /// <exception cref="ArgumentException">
    /// The type is unsupported, or <paramref name="elements"/> is negative or not a multiple of the block size.
    /// </exception>
    public static long RowBytes(GgmlType type, long elements)
    {
        var traits = Get(type);
        if (elements < 0 || elements % traits.BlockSize != 0)
        {
            throw new ArgumentException(
                $"A row of {traits.Name} must hold a non-negative multiple of {traits.BlockSize} elements, not {elements}.",
                nameof(elements));
        }

        return elements / traits.BlockSize * traits.BlockBytes;
    }

    internal static ArgumentException Unsupported(GgmlType type, string paramName) =>
        new($"Tensor type {type} (ggml id {(uint)type}) is not supported by Kvasir's kernels; supported: " +
            "F32, F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q2_K, Q3_K, Q4_K, Q5_K, Q6_K, Q8_K, IQ4_NL, IQ4_XS. " +
            "Requantize the model to one of these types.", paramName);

    private static QuantTraits[] BuildTable()
    {
        var table = new QuantTraits[(int)GgmlType.MXFP4 + 1];
        Add(new(GgmlType.F32, "f32", 1, sizeof(float)));
        Add(new(GgmlType.F16, "f16", 1, sizeof(ushort)));
        Add(new(GgmlType.BF16, "bf16", 1, sizeof(ushort)));
        Add(new(GgmlType.Q4_0, "q4_0", BlockQ4_0.BlockSize, BlockQ4_0.BlockBytes));
        Add(new(GgmlType.Q4_1, "q4_1", BlockQ4_1.BlockSize, BlockQ4_1.BlockBytes));
        Add(new(GgmlType.Q5_0, "q5_0", BlockQ5_0.BlockSize, BlockQ5_0.BlockBytes));
        Add(new(GgmlType.Q5_1, "q5_1", BlockQ5_1.BlockSize, BlockQ5_1.BlockBytes));
        Add(new(GgmlType.Q8_0, "q8_0", BlockQ8_0.BlockSize, BlockQ8_0.BlockBytes));
        Add(new(GgmlType.Q2_K, "q2_K", BlockQ2_K.BlockSize, BlockQ2_K.BlockBytes));
        Add(new(GgmlType.Q3_K, "q3_K", BlockQ3_K.BlockSize, BlockQ3_K.BlockBytes));
        Add(new(GgmlType.Q4_K, "q4_K", BlockQ4_K.BlockSize, BlockQ4_K.BlockBytes));
        Add(new(GgmlType.Q5_K, "q5_K", BlockQ5_K.BlockSize, BlockQ5_K.BlockBytes));
        Add(new(GgmlType.Q6_K, "q6_K", BlockQ6_K.BlockSize, BlockQ6_K.BlockBytes));
        Add(new(GgmlType.Q8_K, "q8_K", BlockQ8_K.BlockSize, BlockQ8_K.BlockBytes));
        Add(new(GgmlType.IQ4_NL, "iq4_nl", BlockIQ4_NL.BlockSize, BlockIQ4_NL.BlockBytes));
        Add(new(GgmlType.IQ4_XS, "iq4_xs", BlockIQ4_XS.BlockSize, BlockIQ4_XS.BlockBytes));
        return table;

        void Add(QuantTraits row) => table[(int)row.Type] = row;
    }
}
