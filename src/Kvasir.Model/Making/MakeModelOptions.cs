namespace Kvasir.Model.Making;

/// <summary>Options of <see cref="ModelMaker"/>.</summary>
public sealed record MakeModelOptions
{
    /// <summary>Seed of the weights (same seed, same file).</summary>
    public ulong Seed { get; init; } = 42;

    /// <summary>Target standard deviation of the logits (decisive top-two gaps for oracle tests).</summary>
    public float LogitScale { get; init; } = 3f;

    /// <summary>general.name; a descriptive default when null.</summary>
    public string? Name { get; init; }

    /// <summary>Chat template written with BPE vocabularies (ChatML by default; null for none).</summary>
    public string? ChatTemplate { get; init; } = ChatTemplates.ChatTemplate.ChatMlSource;
}
