using System.Globalization;
using System.Text.Json;

namespace Kvasir.Cli.Bench;

/// <summary>
/// Writes a run as vLLM's serving-benchmark result JSON (date, backend, model_id, num_prompts, request_rate,
/// burstiness, max_concurrency, duration, completed, total_input_tokens, ..., input_lens, output_lens, ttfts, itls,
/// errors, mean_/median_/std_/pNN_ ttft/tpot/itl/e2el _ms) with Kvasir's extras (failures, cached tokens, the server's
/// counter deltas and KV-usage timeline).
/// </summary>
public static class BenchResultWriter
{
    /// <summary>Writes the JSON document to <paramref name="stream"/>.</summary>
    public static void Write(Stream stream, BenchReport report, BenchOptions options, DatasetOptions dataset, DateTime date)
    {
        ArgumentNullException.ThrowIfNull(report);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(dataset);
        using var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true });
        var run = report.Run;
        w.WriteStartObject();
        w.WriteString("date", date.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture));
        w.WriteString("backend", options.Chat ? "openai-chat" : "openai");
        w.WriteString("endpoint_type", options.Chat ? "openai-chat" : "openai");
        w.WriteString("base_url", run.BaseUrl);
        w.WriteString("model_id", run.Model);
        w.WriteString("tokenizer_id", run.Model);
        w.WriteString("dataset_name", dataset.Name);
        w.WriteNumber("num_prompts", run.Outcomes.Count);
        if (double.IsPositiveInfinity(options.RequestRate))
        {
            w.WriteString("request_rate", "inf");
        }
        else
        {
            w.WriteNumber("request_rate", options.RequestRate);
        }

        w.WriteNumber("burstiness", options.Burstiness);
        if (options.MaxConcurrency > 0)
        {
            w.WriteNumber("max_concurrency", options.MaxConcurrency);
        }
        else
        {
            w.WriteNull("max_concurrency");
        }

        if (options.TimeScale is { } scale)
        {
            w.WriteNumber("time_scale", scale);
        }

        w.WriteNumber("seed", dataset.Seed);
        w.WriteBoolean("ignore_eos", options.IgnoreEos);
        w.WriteNumber("tokens_per_word", run.TokensPerWord);
        w.WriteStartObject("goodput_slos_ms");
        foreach (var (name, ms) in options.Slos)
        {
            w.WriteNumber(name, ms);
        }

        w.WriteEndObject();
        foreach (var (key, value) in report.Metrics)
        {
            if (double.IsFinite(value))
            {
                w.WriteNumber(key, value);
            }
            else
            {
                w.WriteNull(key);
            }
        }

        w.WriteStartObject("server_metric_deltas");
        foreach (var (name, value) in run.MetricDeltas)
        {
            w.WriteNumber(name, value);
        }

        w.WriteEndObject();
        if (options.SaveDetailed)
        {
            WriteDetails(w, run);
        }

        w.WriteEndObject();
    }

    /// <summary>Writes the JSON document to a file.</summary>
    public static void Write(string path, BenchReport report, BenchOptions options, DatasetOptions dataset, DateTime date)
    {
        try
        {
            using var file = File.Create(path);
            Write(file, report, options, dataset, date);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CliException($"cannot write the result file '{path}': {e.Message}");
        }
    }

    private static void WriteDetails(Utf8JsonWriter w, BenchRun run)
    {
        // vLLM lists one entry per request; failed requests have 0 / empty entries and their message in errors.
        Integers("input_lens", o => o.Success ? o.PromptTokens : 0);
        Integers("output_lens", o => o.Success ? o.OutputTokens : 0);
        Integers("cached_lens", o => o.CachedTokens);
        Doubles("ttfts", o => o.Ttft);
        Doubles("e2els", o => o.Latency);
        Doubles("start_times", o => o.StartSeconds);
        w.WriteStartArray("itls");
        foreach (var o in run.Outcomes)
        {
            w.WriteStartArray();
            foreach (var gap in o.Itls)
            {
                w.WriteNumberValue(gap);
            }

            w.WriteEndArray();
        }

        w.WriteEndArray();
        Strings("generated_texts", o => o.GeneratedText);
        Strings("errors", o => o.Error ?? "");
        w.WriteStartArray("kv_cache_usage_timeline");
        foreach (var s in run.MetricSamples)
        {
            w.WriteStartObject();
            w.WriteNumber("t", s.Seconds);
            w.WriteNumber("kv_cache_usage_perc", s.KvCacheUsage);
            w.WriteNumber("num_requests_running", s.Running);
            w.WriteNumber("num_requests_waiting", s.Waiting);
            w.WriteEndObject();
        }

        w.WriteEndArray();

        // One array with an entry per request.
        void Integers(string name, Func<RequestOutcome, int> value)
        {
            w.WriteStartArray(name);
            foreach (var o in run.Outcomes)
            {
                w.WriteNumberValue(value(o));
            }

            w.WriteEndArray();
        }

        void Doubles(string name, Func<RequestOutcome, double> value)
        {
            w.WriteStartArray(name);
            foreach (var o in run.Outcomes)
            {
                w.WriteNumberValue(value(o));
            }

            w.WriteEndArray();
        }

        void Strings(string name, Func<RequestOutcome, string> value)
        {
            w.WriteStartArray(name);
            foreach (var o in run.Outcomes)
            {
                w.WriteStringValue(value(o));
            }

            w.WriteEndArray();
        }
    }
}
