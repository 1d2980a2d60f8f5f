using Kvasir.Model.Sampling;

namespace Kvasir.Model.Tests.Sampling;

public class SamplingParamsTests
{
    [Fact]
    public void DefaultsAreValidAndOff()
    {
        var p = new SamplingParams();
        Assert.Null(p.Validate());
        Assert.Null(p.Validate(10));
        Assert.Equal(1f, p.Temperature);
        Assert.Equal(0, p.TopK);
        Assert.Equal(1f, p.TopP);
        Assert.Equal(64, p.RepeatLastN);
        Assert.Null(p.Logprobs);
        Assert.Equal(0f, SamplingParams.Greedy.Temperature);
    }

    public static TheoryData<SamplingParams, string> Invalid => new()
    {
        { new SamplingParams { Temperature = -0.1f }, "temperature" },
        { new SamplingParams { Temperature = 2.1f }, "temperature" },
        { new SamplingParams { Temperature = float.NaN }, "temperature" },
        { new SamplingParams { TopK = -1 }, "top_k" },
        { new SamplingParams { TopP = 0f }, "top_p" },
        { new SamplingParams { TopP = 1.01f }, "top_p" },
        { new SamplingParams { MinP = -0.01f }, "min_p" },
        { new SamplingParams { MinP = 1.5f }, "min_p" },
        { new SamplingParams { RepetitionPenalty = 0f }, "repetition_penalty" },
        { new SamplingParams { RepetitionPenalty = float.PositiveInfinity }, "repetition_penalty" },
        { new SamplingParams { RepeatLastN = -2 }, "repeat_last_n" },
        { new SamplingParams { PresencePenalty = 2.5f }, "presence_penalty" },
        { new SamplingParams { FrequencyPenalty = -2.5f }, "frequency_penalty" },
        { new SamplingParams { Logprobs = -1 }, "logprobs" },
        { new SamplingParams { Logprobs = 21 }, "logprobs" },
        { new SamplingParams { MaxTokens = 0 }, "max_tokens" },
        { new SamplingParams { LogitBias = new Dictionary<int, float> { [5] = 101f } }, "logit_bias" },
        { new SamplingParams { LogitBias = new Dictionary<int, float> { [-1] = 1f } }, "logit_bias" },
        { new SamplingParams { StopTokenIds = [1, -3] }, "stop_token_ids[1]" },
        { new SamplingParams { StopStrings = ["ok", ""] }, "stop[1]" },
    };

    [Theory]
    [MemberData(nameof(Invalid))]
    public void NamesTheBadField(SamplingParams p, string field)
    {
        string? error = p.Validate();
        Assert.NotNull(error);
        Assert.StartsWith(field, error);
        Assert.Throws<ArgumentException>(() => new Sampler(p, 10));
    }

    [Fact]
    public void VocabularyBoundsAreCheckedWhenKnown()
    {
        var p = new SamplingParams { LogitBias = new Dictionary<int, float> { [10] = 1f }, StopTokenIds = [3] };
        Assert.Null(p.Validate());
        Assert.Contains("vocabulary size 10", p.Validate(10));
        Assert.Null(p.Validate(11));
        Assert.Contains("stop_token_ids[0]", new SamplingParams { StopTokenIds = [10] }.Validate(10));
    }

    [Fact]
    public void EdgeValuesAreAccepted()
    {
        Assert.Null(new SamplingParams
        {
            Temperature = 2f,
            TopP = 1f,
            MinP = 1f,
            PresencePenalty = -2f,
            FrequencyPenalty = 2f,
            Logprobs = 20,
            RepeatLastN = -1,
            LogitBias = new Dictionary<int, float> { [0] = -100f, [1] = 100f },
        }.Validate());
        Assert.Null(new SamplingParams { Logprobs = 0 }.Validate());
    }
}
