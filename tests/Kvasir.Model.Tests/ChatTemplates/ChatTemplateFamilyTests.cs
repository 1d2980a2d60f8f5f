using System.Text.Json;
using Kvasir.Model.ChatTemplates;

namespace Kvasir.Model.Tests.ChatTemplates;

/// <summary>
/// Whole templates in the style of the model families Kvasir serves (Llama 3.x, Qwen2.5, Qwen3, Mistral,
/// SmolLM2, Phi-3, Gemma), written for these tests with the constructs the real ones use: header ids and a
/// date string, a default system prompt, tool-call and tool-response branches, Qwen3's reverse scan with a
/// namespace and its think handling, role alternation enforced by raise_exception, role mapping and a system
/// message folded into the first user turn, content given as a list of parts.
/// Every expected prompt is what Jinja2 3.1.6 renders under Hugging Face's apply_chat_template settings
/// (jinja_oracle.py next to this file), with strftime_now fixed at 26 Jul 2024.
/// </summary>
public class ChatTemplateFamilyTests
{
    internal const string Llama3 = """
        {{- bos_token }}
        {%- if custom_tools is defined %}
            {%- set tools = custom_tools %}
        {%- endif %}
        {%- if not tools_in_user_message is defined %}
            {%- set tools_in_user_message = true %}
        {%- endif %}
        {%- if not date_string is defined %}
            {%- if strftime_now is defined %}
                {%- set date_string = strftime_now("%d %b %Y") %}
            {%- else %}
                {%- set date_string = "01 Jan 2024" %}
            {%- endif %}
        {%- endif %}
        {%- if not tools is defined %}
            {%- set tools = none %}
        {%- endif %}

        {#- The system message, if any, comes out of the list #}
        {%- if messages[0]['role'] == 'system' %}
            {%- set system_message = messages[0]['content'] | trim %}
            {%- set messages = messages[1:] %}
        {%- else %}
            {%- set system_message = "" %}
        {%- endif %}

        {#- System header: knowledge cutoff and today's date #}
        {{- "<|start_header_id|>system<|end_header_id|>\n\n" }}
        {%- if tools is not none %}
            {{- "Environment: ipython\n" }}
        {%- endif %}
        {{- "Cutting Knowledge Date: December 2023\n" }}
        {{- "Today Date: " + date_string + "\n\n" }}
        {%- if tools is not none and not tools_in_user_message %}
            {{- "These functions are available. Answer with JSON {\"name\": function name, \"parameters\": arguments}.\n\n" }}
            {%- for t in tools %}
                {{- t | tojson(indent=4) }}
                {{- "\n\n" }}
            {%- endfor %}
        {%- endif %}
        {{- system_message }}
        {{- "<|eot_id|>" }}

        {#- With tools, the first user message carries the function list #}
        {%- if tools_in_user_message and not tools is none %}
            {%- if messages | length != 0 %}
                {%- set first_user_message = messages[0]['content'] | trim %}
                {%- set messages = messages[1:] %}
            {%- else %}
                {{- raise_exception("Tools go into the first user message, but there is no user message.") }}
            {%- endif %}
            {{- '<|start_header_id|>user<|end_header_id|>\n\n' -}}
            {{- "Use one of these functions if it helps. Answer with JSON {\"name\": function name, \"parameters\": arguments}.\n\n" }}
            {%- for t in tools %}
                {{- t | tojson(indent=4) }}
                {{- "\n\n" }}
            {%- endfor %}
            {{- first_user_message + "<|eot_id|>"}}
        {%- endif %}

        {%- for message in messages %}
            {%- if not (message.role == 'ipython' or message.role == 'tool' or 'tool_calls' in message) %}
                {{- '<|start_header_id|>' + message['role'] + '<|end_header_id|>\n\n'+ message['content'] | trim + '<|eot_id|>' }}
            {%- elif 'tool_calls' in message %}
                {%- if not message.tool_calls|length == 1 %}
                    {{- raise_exception("Only one tool call per message is supported.") }}
                {%- endif %}
                {%- set tool_call = message.tool_calls[0].function %}
                {{- '<|start_header_id|>assistant<|end_header_id|>\n\n' -}}
                {{- '{"name": "' + tool_call.name + '", ' }}
                {{- '"parameters": ' }}
                {{- tool_call.arguments | tojson }}
                {{- "}" }}
                {{- "<|eot_id|>" }}
            {%- elif message.role == "tool" or message.role == "ipython" %}
                {{- "<|start_header_id|>ipython<|end_header_id|>\n\n" }}
                {%- if message.content is mapping or message.content is iterable %}
                    {{- message.content | tojson }}
                {%- else %}
                    {{- message.content }}
                {%- endif %}
                {{- "<|eot_id|>" }}
            {%- endif %}
        {%- endfor %}
        {%- if add_generation_prompt %}
            {{- '<|start_header_id|>assistant<|end_header_id|>\n\n' }}
        {%- endif %}
        """;

    internal const string Qwen25 = """
        {%- if tools %}
            {{- '<|im_start|>system\n' }}
            {%- if messages[0]['role'] == 'system' %}
                {{- messages[0]['content'] }}
            {%- else %}
                {{- 'You are Qwen, made by Alibaba Cloud, a helpful assistant.' }}
            {%- endif %}
            {{- "\n\n# Tools\n\nYou can call functions to help with the request.\n\nTheir signatures are inside <tools></tools>:\n<tools>" }}
            {%- for tool in tools %}
                {{- "\n" }}
                {{- tool | tojson }}
            {%- endfor %}
            {{- "\n</tools>\n\nFor each call, reply with a JSON object inside <tool_call></tool_call>:\n<tool_call>\n{\"name\": <function-name>, \"arguments\": <args-json-object>}\n</tool_call><|im_end|>\n" }}
        {%- else %}
            {%- if messages[0]['role'] == 'system' %}
                {{- '<|im_start|>system\n' + messages[0]['content'] + '<|im_end|>\n' }}
            {%- else %}
                {{- '<|im_start|>system\nYou are Qwen, made by Alibaba Cloud, a helpful assistant.<|im_end|>\n' }}
            {%- endif %}
        {%- endif %}
        {%- for message in messages %}
            {%- if (message.role == "user") or (message.role == "system" and not loop.first) or (message.role == "assistant" and not message.tool_calls) %}
                {{- '<|im_start|>' + message.role + '\n' + message.content + '<|im_end|>' + '\n' }}
            {%- elif message.role == "assistant" %}
                {{- '<|im_start|>' + message.role }}
                {%- if message.content %}
                    {{- '\n' + message.content }}
                {%- endif %}
                {%- for tool_call in message.tool_calls %}
                    {%- if tool_call.function is defined %}
                        {%- set tool_call = tool_call.function %}
                    {%- endif %}
                    {{- '\n<tool_call>\n{"name": "' }}
                    {{- tool_call.name }}
                    {{- '", "arguments": ' }}
                    {{- tool_call.arguments | tojson }}
                    {{- '}\n</tool_call>' }}
                {%- endfor %}
                {{- '<|im_end|>\n' }}
            {%- elif message.role == "tool" %}
                {%- if (loop.index0 == 0) or (messages[loop.index0 - 1].role != "tool") %}
                    {{- '<|im_start|>user' }}
                {%- endif %}
                {{- '\n<tool_response>\n' }}
                {{- message.content }}
                {{- '\n</tool_response>' }}
                {%- if loop.last or (messages[loop.index0 + 1].role != "tool") %}
                    {{- '<|im_end|>\n' }}
                {%- endif %}
            {%- endif %}
        {%- endfor %}
        {%- if add_generation_prompt %}
            {{- '<|im_start|>assistant\n' }}
        {%- endif %}
        """;

    internal const string Qwen3 = """
        {%- if tools %}
            {{- '<|im_start|>system\n' }}
            {%- if messages[0].role == 'system' %}
                {{- messages[0].content + '\n\n' }}
            {%- endif %}
            {{- "# Tools\n\nThe functions you may call are inside <tools></tools>:\n<tools>" }}
            {%- for tool in tools %}
                {{- "\n" }}
                {{- tool | tojson }}
            {%- endfor %}
            {{- "\n</tools>\n\nTo call one, reply with <tool_call></tool_call> around {\"name\": <function-name>, \"arguments\": <args-json-object>}.<|im_end|>\n" }}
        {%- else %}
            {%- if messages[0].role == 'system' %}
                {{- '<|im_start|>system\n' + messages[0].content + '<|im_end|>\n' }}
            {%- endif %}
        {%- endif %}
        {%- set ns = namespace(multi_step_tool=true, last_query_index=messages|length - 1) %}
        {%- for message in messages[::-1] %}
            {%- set index = (messages|length - 1) - loop.index0 %}
            {%- if ns.multi_step_tool and message.role == "user" and message.content is string and not(message.content.startswith('<tool_response>') and message.content.endswith('</tool_response>')) %}
                {%- set ns.multi_step_tool = false %}
                {%- set ns.last_query_index = index %}
            {%- endif %}
        {%- endfor %}
        {%- for message in messages %}
            {%- if message.content is string %}
                {%- set content = message.content %}
            {%- else %}
                {%- set content = '' %}
            {%- endif %}
            {%- if (message.role == "user") or (message.role == "system" and not loop.first) %}
                {{- '<|im_start|>' + message.role + '\n' + content + '<|im_end|>' + '\n' }}
            {%- elif message.role == "assistant" %}
                {%- set reasoning_content = '' %}
                {%- if message.reasoning_content is string %}
                    {%- set reasoning_content = message.reasoning_content %}
                {%- else %}
                    {%- if '</think>' in content %}
                        {%- set reasoning_content = content.split('</think>')[0].rstrip('\n').split('<think>')[-1].lstrip('\n') %}
                        {%- set content = content.split('</think>')[-1].lstrip('\n') %}
                    {%- endif %}
                {%- endif %}
                {%- if loop.index0 > ns.last_query_index %}
                    {%- if loop.last or (not loop.last and reasoning_content) %}
                        {{- '<|im_start|>' + message.role + '\n<think>\n' + reasoning_content.strip('\n') + '\n</think>\n\n' + content.lstrip('\n') }}
                    {%- else %}
                        {{- '<|im_start|>' + message.role + '\n' + content }}
                    {%- endif %}
                {%- else %}
                    {{- '<|im_start|>' + message.role + '\n' + content }}
                {%- endif %}
                {%- if message.tool_calls %}
                    {%- for tool_call in message.tool_calls %}
                        {%- if (loop.first and content) or (not loop.first) %}
                            {{- '\n' }}
                        {%- endif %}
                        {%- if tool_call.function %}
                            {%- set tool_call = tool_call.function %}
                        {%- endif %}
                        {{- '<tool_call>\n{"name": "' }}
                        {{- tool_call.name }}
                        {{- '", "arguments": ' }}
                        {%- if tool_call.arguments is string %}
                            {{- tool_call.arguments }}
                        {%- else %}
                            {{- tool_call.arguments | tojson }}
                        {%- endif %}
                        {{- '}\n</tool_call>' }}
                    {%- endfor %}
                {%- endif %}
                {{- '<|im_end|>\n' }}
            {%- elif message.role == "tool" %}
                {%- if loop.first or (messages[loop.index0 - 1].role != "tool") %}
                    {{- '<|im_start|>user' }}
                {%- endif %}
                {{- '\n<tool_response>\n' }}
                {{- content }}
                {{- '\n</tool_response>' }}
                {%- if loop.last or (messages[loop.index0 + 1].role != "tool") %}
                    {{- '<|im_end|>\n' }}
                {%- endif %}
            {%- endif %}
        {%- endfor %}
        {%- if add_generation_prompt %}
            {{- '<|im_start|>assistant\n' }}
            {%- if enable_thinking is defined and enable_thinking is false %}
                {{- '<think>\n\n</think>\n\n' }}
            {%- endif %}
        {%- endif %}
        """;

    internal const string Mistral = """
        {%- if messages[0]['role'] == 'system' %}
            {%- set system_message = messages[0]['content'] %}
            {%- set loop_messages = messages[1:] %}
        {%- else %}
            {%- set loop_messages = messages %}
        {%- endif %}

        {{- bos_token }}
        {%- for message in loop_messages %}
            {%- if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}
                {{- raise_exception('After an optional system message, roles must alternate user/assistant/user/...') }}
            {%- endif %}
            {%- if message['role'] == 'user' %}
                {%- if loop.first and system_message is defined %}
                    {{- ' [INST] ' + system_message + '\n\n' + message['content'] + ' [/INST]' }}
                {%- else %}
                    {{- ' [INST] ' + message['content'] + ' [/INST]' }}
                {%- endif %}
            {%- elif message['role'] == 'assistant' %}
                {{- ' ' + message['content'] + eos_token}}
            {%- else %}
                {{- raise_exception('Only user and assistant roles are supported, after an optional first system message.') }}
            {%- endif %}
        {%- endfor %}
        """;

    internal const string Gemma = """
        {{ bos_token }}
        {%- if messages[0]['role'] == 'system' -%}
            {%- set first_user_prefix = messages[0]['content'] + '\n\n' -%}
            {%- set loop_messages = messages[1:] -%}
        {%- else -%}
            {%- set first_user_prefix = "" -%}
            {%- set loop_messages = messages -%}
        {%- endif -%}
        {%- for message in loop_messages -%}
            {%- if (message['role'] == 'user') != (loop.index0 % 2 == 0) -%}
                {{ raise_exception("Conversation roles must alternate user/assistant/user/assistant/...") }}
            {%- endif -%}
            {%- if (message['role'] == 'assistant') -%}
                {%- set role = "model" -%}
            {%- else -%}
                {%- set role = message['role'] -%}
            {%- endif -%}
            {{ '<start_of_turn>' + role + '\n' + (first_user_prefix if loop.first else "") }}
            {%- if message['content'] is string -%}
                {{ message['content'] | trim }}
            {%- elif message['content'] is iterable -%}
                {%- for item in message['content'] -%}
                    {%- if item['type'] == 'text' -%}
                        {{ item['text'] | trim }}
                    {%- endif -%}
                {%- endfor -%}
            {%- else -%}
                {{ raise_exception("Invalid content type") }}
            {%- endif -%}
            {{ '<end_of_turn>\n' }}
        {%- endfor -%}
        {%- if add_generation_prompt -%}
            {{'<start_of_turn>model\n'}}
        {%- endif -%}
        """;

    internal const string SmolLM2 =
        "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}{{ '<|im_start|>system\n" +
        "You are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n" +
        "' }}{% endif %}{{'<|im_start|>' + message['role'] + '\n" +
        "' + message['content'] + '<|im_end|>' + '\n" +
        "'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n" +
        "' }}{% endif %}";

    internal const string Phi3 =
        "{% for message in messages %}{% if message['role'] == 'system' %}{{'<|system|>\n" +
        "' + message['content'] + '<|end|>\n" +
        "'}}{% elif message['role'] == 'user' %}{{'<|user|>\n" +
        "' + message['content'] + '<|end|>\n" +
        "'}}{% elif message['role'] == 'assistant' %}{{'<|assistant|>\n" +
        "' + message['content'] + '<|end|>\n" +
        "'}}{% endif %}{% endfor %}{% if add_generation_prompt %}{{ '<|assistant|>\n" +
        "' }}{% else %}{{ eos_token }}{% endif %}";

    private static readonly ChatMessage[] WithSystem =
    [
        new("system", "You are terse."),
        new("user", "Hi there"),
        new("assistant", "Hello!"),
        new("user", "What is 2+2?"),
    ];

    private static readonly ChatMessage[] WithoutSystem = WithSystem[1..];

    internal static readonly ChatMessage[] ToolConversation =
    [
        new("system", "Use tools."),
        new("user", "Weather in Paris?"),
        new("assistant", "") { Fields = new Dictionary<string, object?> { ["tool_calls"] = Json("""[{"type": "function", "function": {"name": "get_weather", "arguments": {"city": "Paris"}}}]""") } },
        new("tool", "{\"temp\": 21}"),
        new("assistant", "It is 21 degrees."),
    ];

    private static readonly ChatMessage[] ToolConversationWithoutSystem = ToolConversation[1..];

    private static readonly ChatMessage[] Reasoning =
    [
        new("user", "Q1"),
        new("assistant", "<think>\nreasoning one\n</think>\n\nA1"),
        new("user", "Q2"),
        new("assistant", "<think>\nreasoning two\n</think>\n\nA2"),
        new("user", "Q3"),
    ];

    // The last message answers the last query, so its reasoning stays in the prompt.
    private static readonly ChatMessage[] ReasoningAnswered = Reasoning[..4];

    private static readonly ChatMessage[] NotAlternating = [new("user", "a"), new("user", "b")];

    // OpenAI-style content parts, passed through ChatMessage.Fields as the server does for templates that read them.
    private static readonly ChatMessage[] ContentParts =
    [
        new("system", "Sys"),
        new("user", "") { Fields = new Dictionary<string, object?> { ["content"] = Json("""[{"type": "text", "text": " part one "}, {"type": "image"}, {"type": "text", "text": "two"}]""") } },
        new("assistant", "ok "),
    ];

    private const string ToolsJson = """[{"type": "function", "function": {"name": "get_weather", "description": "Weather for a city", "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}]""";

    private static JsonElement Json(string json) => JsonDocument.Parse(json).RootElement;

    internal static Dictionary<string, object?> Tools(params (string Name, object? Value)[] more)
    {
        var variables = new Dictionary<string, object?> { ["tools"] = Json(ToolsJson) };
        foreach (var (name, value) in more)
            variables[name] = value;
        return variables;
    }

    private static string Render(string template, ChatMessage[] messages, bool addGenerationPrompt, string? bos, string? eos, Dictionary<string, object?>? extra = null)
        => ChatTemplate.Parse(template, ChatTemplateFixture.Clock).Render(messages, addGenerationPrompt, bos, eos, extra);

    private static ChatTemplateException Rejects(string template, ChatMessage[] messages)
    {
        var e = Assert.Throws<ChatTemplateException>(() => Render(template, messages, addGenerationPrompt: true, "<s>", "</s>"));
        Assert.Equal(ChatTemplateErrorKind.Rejected, e.Kind);
        return e;
    }

    [Fact]
    public void Llama3_WithSystem_GenerationPrompt()
    {
        string prompt = Render(Llama3, WithSystem, addGenerationPrompt: true, "<|begin_of_text|>", "<|eot_id|>");
        Assert.Equal(
            "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n" +
            "\n" +
            "Cutting Knowledge Date: December 2023\n" +
            "Today Date: 26 Jul 2024\n" +
            "\n" +
            "You are terse.<|eot_id|><|start_header_id|>user<|end_header_id|>\n" +
            "\n" +
            "Hi there<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n" +
            "\n" +
            "Hello!<|eot_id|><|start_header_id|>user<|end_header_id|>\n" +
            "\n" +
            "What is 2+2?<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n" +
            "\n",
            prompt);
    }

    [Fact]
    public void Llama3_WithSystem_NoGenerationPrompt()
    {
        string prompt = Render(Llama3, WithSystem, addGenerationPrompt: false, "<|begin_of_text|>", "<|eot_id|>");
        Assert.Equal(
            "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n" +
            "\n" +
            "Cutting Knowledge Date: December 2023\n" +
            "Today Date: 26 Jul 2024\n" +
            "\n" +
            "You are terse.<|eot_id|><|start_header_id|>user<|end_header_id|>\n" +
            "\n" +
            "Hi there<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n" +
            "\n" +
            "Hello!<|eot_id|><|start_header_id|>user<|end_header_id|>\n" +
            "\n" +
            "What is 2+2?<|eot_id|>",
            prompt);
    }

    [Fact]
    public void Llama3_WithoutSystem_DateStringOverride()
    {
        string prompt = Render(Llama3, WithoutSystem, addGenerationPrompt: true, "<|begin_of_text|>", "<|eot_id|>", new() { ["date_string"] = "01 Aug 2025" });
        Assert.Equal(
            "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n" +
            "\n" +
            "Cutting Knowledge Date: December 2023\n" +
            "Today Date: 01 Aug 2025\n" +
            "\n" +
            "<|eot_id|><|start_header_id|>user<|end_header_id|>\n" +
            "\n" +
            "Hi there<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n" +
            "\n" +
            "Hello!<|eot_id|><|start_header_id|>user<|end_header_id|>\n" +
            "\n" +
            "What is 2+2?<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n" +
            "\n",
            prompt);
    }

    [Fact]
    public void Llama3_ToolsInFirstUserMessage()
    {
        string prompt = Render(Llama3, ToolConversation, addGenerationPrompt: true, "<|begin_of_text|>", "<|eot_id|>", Tools());
        Assert.Equal(
            "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n" +
            "\n" +
            "Environment: ipython\n" +
            "Cutting Knowledge Date: December 2023\n" +
            "Today Date: 26 Jul 2024\n" +
            "\n" +
            "Use tools.<|eot_id|><|start_header_id|>user<|end_header_id|>\n" +
            "\n" +
            "Use one of these functions if it helps. Answer with JSON {\"name\": function name, \"parameters\": arguments}.\n" +
            "\n" +
            "{\n" +
            "    \"type\": \"function\",\n" +
            "    \"function\": {\n" +
            "        \"name\": \"get_weather\",\n" +
            "        \"description\": \"Weather for a city\",\n" +
            "        \"parameters\": {\n" +
            "            \"type\": \"object\",\n" +
            "            \"properties\": {\n" +
            "                \"city\": {\n" +
            "                    \"type\": \"string\"\n" +
            "                }\n" +
            "            },\n" +
            "            \"required\": [\n" +
            "                \"city\"\n" +
            "            ]\n" +
            "        }\n" +
            "    }\n" +
            "}\n" +
            "\n" +
            "Weather in Paris?<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n" +
            "\n" +
            "{\"name\": \"get_weather\", \"parameters\": {\"city\": \"Paris\"}}<|eot_id|><|start_header_id|>ipython<|end_header_id|>\n" +
            "\n" +
            "\"{\\\"temp\\\": 21}\"<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n" +
            "\n" +
            "It is 21 degrees.<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n" +
            "\n",
            prompt);
    }

    [Fact]
    public void Llama3_ToolsInSystemMessage()
    {
        string prompt = Render(Llama3, ToolConversation, addGenerationPrompt: false, "<|begin_of_text|>", "<|eot_id|>", Tools(("tools_in_user_message", false)));
        Assert.Equal(
            "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n" +
            "\n" +
            "Environment: ipython\n" +
            "Cutting Knowledge Date: December 2023\n" +
            "Today Date: 26 Jul 2024\n" +
            "\n" +
            "These functions are available. Answer with JSON {\"name\": function name, \"parameters\": arguments}.\n" +
            "\n" +
            "{\n" +
            "    \"type\": \"function\",\n" +
            "    \"function\": {\n" +
            "        \"name\": \"get_weather\",\n" +
            "        \"description\": \"Weather for a city\",\n" +
            "        \"parameters\": {\n" +
            "            \"type\": \"object\",\n" +
            "            \"properties\": {\n" +
            "                \"city\": {\n" +
            "                    \"type\": \"string\"\n" +
            "                }\n" +
            "            },\n" +
            "            \"required\": [\n" +
            "                \"city\"\n" +
            "            ]\n" +
            "        }\n" +
            "    }\n" +
            "}\n" +
            "\n" +
            "Use tools.<|eot_id|><|start_header_id|>user<|end_header_id|>\n" +
            "\n" +
            "Weather in Paris?<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n" +
            "\n" +
            "{\"name\": \"get_weather\", \"parameters\": {\"city\": \"Paris\"}}<|eot_id|><|start_header_id|>ipython<|end_header_id|>\n" +
            "\n" +
            "\"{\\\"temp\\\": 21}\"<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n" +
            "\n" +
            "It is 21 degrees.<|eot_id|>",
            prompt);
    }

    [Fact]
    public void Qwen25_WithSystem_GenerationPrompt()
    {
        string prompt = Render(Qwen25, WithSystem, addGenerationPrompt: true, null, "<|im_end|>");
        Assert.Equal(
            "<|im_start|>system\n" +
            "You are terse.<|im_end|>\n" +
            "<|im_start|>user\n" +
            "Hi there<|im_end|>\n" +
            "<|im_start|>assistant\n" +
            "Hello!<|im_end|>\n" +
            "<|im_start|>user\n" +
            "What is 2+2?<|im_end|>\n" +
            "<|im_start|>assistant\n",
            prompt);
    }

    [Fact]
    public void Qwen25_WithSystem_NoGenerationPrompt()
    {
        string prompt = Render(Qwen25, WithSystem, addGenerationPrompt: false, null, "<|im_end|>");
        Assert.Equal(
            "<|im_start|>system\n" +
            "You are terse.<|im_end|>\n" +
            "<|im_start|>user\n" +
            "Hi there<|im_end|>\n" +
            "<|im_start|>assistant\n" +
            "Hello!<|im_end|>\n" +
            "<|im_start|>user\n" +
            "What is 2+2?<|im_end|>\n",
            prompt);
    }

    [Fact]
    public void Qwen25_DefaultSystemPrompt()
    {
        string prompt = Render(Qwen25, WithoutSystem, addGenerationPrompt: true, null, "<|im_end|>");
        Assert.Equal(
            "<|im_start|>system\n" +
            "You are Qwen, made by Alibaba Cloud, a helpful assistant.<|im_end|>\n" +
            "<|im_start|>user\n" +
            "Hi there<|im_end|>\n" +
            "<|im_start|>assistant\n" +
            "Hello!<|im_end|>\n" +
            "<|im_start|>user\n" +
            "What is 2+2?<|im_end|>\n" +
            "<|im_start|>assistant\n",
            prompt);
    }

    [Fact]
    public void Qwen25_ToolCallsAndResponses()
    {
        string prompt = Render(Qwen25, ToolConversation, addGenerationPrompt: true, null, "<|im_end|>", Tools());
        Assert.Equal(
            "<|im_start|>system\n" +
            "Use tools.\n" +
            "\n" +
            "# Tools\n" +
            "\n" +
            "You can call functions to help with the request.\n" +
            "\n" +
            "Their signatures are inside <tools></tools>:\n" +
            "<tools>\n" +
            "{\"type\": \"function\", \"function\": {\"name\": \"get_weather\", \"description\": \"Weather for a city\", \"parameters\": {\"type\": \"object\", \"properties\": {\"city\": {\"type\": \"string\"}}, \"required\": [\"city\"]}}}\n" +
            "</tools>\n" +
            "\n" +
            "For each call, reply with a JSON object inside <tool_call></tool_call>:\n" +
            "<tool_call>\n" +
            "{\"name\": <function-name>, \"arguments\": <args-json-object>}\n" +
            "</tool_call><|im_end|>\n" +
            "<|im_start|>user\n" +
            "Weather in Paris?<|im_end|>\n" +
            "<|im_start|>assistant\n" +
            "<tool_call>\n" +
            "{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\"}}\n" +
            "</tool_call><|im_end|>\n" +
            "<|im_start|>user\n" +
            "<tool_response>\n" +
            "{\"temp\": 21}\n" +
            "</tool_response><|im_end|>\n" +
            "<|im_start|>assistant\n" +
            "It is 21 degrees.<|im_end|>\n" +
            "<|im_start|>assistant\n",
            prompt);
    }

    [Fact]
    public void Qwen3_WithSystem_GenerationPrompt()
    {
        string prompt = Render(Qwen3, WithSystem, addGenerationPrompt: true, null, "<|im_end|>");
        Assert.Equal(
            "<|im_start|>system\n" +
            "You are terse.<|im_end|>\n" +
            "<|im_start|>user\n" +
            "Hi there<|im_end|>\n" +
            "<|im_start|>assistant\n" +
            "Hello!<|im_end|>\n" +
            "<|im_start|>user\n" +
            "What is 2+2?<|im_end|>\n" +
            "<|im_start|>assistant\n",
            prompt);
    }

    [Fact]
    public void Qwen3_WithSystem_NoGenerationPrompt()
    {
        string prompt = Render(Qwen3, WithSystem, addGenerationPrompt: false, null, "<|im_end|>");
        Assert.Equal(
            "<|im_start|>system\n" +
            "You are terse.<|im_end|>\n" +
            "<|im_start|>user\n" +
            "Hi there<|im_end|>\n" +
            "<|im_start|>assistant\n" +
            "Hello!<|im_end|>\n" +
            "<|im_start|>user\n" +
            "What is 2+2?<|im_end|>\n",
            prompt);
    }

    [Fact]
    public void Qwen3_ReasoningIsDroppedBeforeTheLastQuery()
    {
        string prompt = Render(Qwen3, Reasoning, addGenerationPrompt: true, null, "<|im_end|>");
        Assert.Equal(
            "<|im_start|>user\n" +
            "Q1<|im_end|>\n" +
            "<|im_start|>assistant\n" +
            "A1<|im_end|>\n" +
            "<|im_start|>user\n" +
            "Q2<|im_end|>\n" +
            "<|im_start|>assistant\n" +
            "A2<|im_end|>\n" +
            "<|im_start|>user\n" +
            "Q3<|im_end|>\n" +
            "<|im_start|>assistant\n",
            prompt);
    }

    [Fact]
    public void Qwen3_ReasoningIsKeptAfterTheLastQuery()
    {
        string prompt = Render(Qwen3, ReasoningAnswered, addGenerationPrompt: false, null, "<|im_end|>");
        Assert.Equal(
            "<|im_start|>user\n" +
            "Q1<|im_end|>\n" +
            "<|im_start|>assistant\n" +
            "A1<|im_end|>\n" +
            "<|im_start|>user\n" +
            "Q2<|im_end|>\n" +
            "<|im_start|>assistant\n" +
            "<think>\n" +
            "reasoning two\n" +
            "</think>\n" +
            "\n" +
            "A2<|im_end|>\n",
            prompt);
    }

    [Fact]
    public void Qwen3_EnableThinkingFalse()
    {
        string prompt = Render(Qwen3, Reasoning, addGenerationPrompt: true, null, "<|im_end|>", new() { ["enable_thinking"] = false });
        Assert.Equal(
            "<|im_start|>user\n" +
            "Q1<|im_end|>\n" +
            "<|im_start|>assistant\n" +
            "A1<|im_end|>\n" +
            "<|im_start|>user\n" +
            "Q2<|im_end|>\n" +
            "<|im_start|>assistant\n" +
            "A2<|im_end|>\n" +
            "<|im_start|>user\n" +
            "Q3<|im_end|>\n" +
            "<|im_start|>assistant\n" +
            "<think>\n" +
            "\n" +
            "</think>\n" +
            "\n",
            prompt);
    }

    [Fact]
    public void Qwen3_ToolCallsAndResponses()
    {
        string prompt = Render(Qwen3, ToolConversationWithoutSystem, addGenerationPrompt: true, null, "<|im_end|>", Tools());
        Assert.Equal(
            "<|im_start|>system\n" +
            "# Tools\n" +
            "\n" +
            "The functions you may call are inside <tools></tools>:\n" +
            "<tools>\n" +
            "{\"type\": \"function\", \"function\": {\"name\": \"get_weather\", \"description\": \"Weather for a city\", \"parameters\": {\"type\": \"object\", \"properties\": {\"city\": {\"type\": \"string\"}}, \"required\": [\"city\"]}}}\n" +
            "</tools>\n" +
            "\n" +
            "To call one, reply with <tool_call></tool_call> around {\"name\": <function-name>, \"arguments\": <args-json-object>}.<|im_end|>\n" +
            "<|im_start|>user\n" +
            "Weather in Paris?<|im_end|>\n" +
            "<|im_start|>assistant\n" +
            "<tool_call>\n" +
            "{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\"}}\n" +
            "</tool_call><|im_end|>\n" +
            "<|im_start|>user\n" +
            "<tool_response>\n" +
            "{\"temp\": 21}\n" +
            "</tool_response><|im_end|>\n" +
            "<|im_start|>assistant\n" +
            "<think>\n" +
            "\n" +
            "</think>\n" +
            "\n" +
            "It is 21 degrees.<|im_end|>\n" +
            "<|im_start|>assistant\n",
            prompt);
    }

    [Fact]
    public void Mistral_WithSystem_GenerationPrompt()
    {
        string prompt = Render(Mistral, WithSystem, addGenerationPrompt: true, "<s>", "</s>");
        Assert.Equal(
            "<s> [INST] You are terse.\n" +
            "\n" +
            "Hi there [/INST] Hello!</s> [INST] What is 2+2? [/INST]",
            prompt);
    }

    [Fact]
    public void Mistral_WithSystem_NoGenerationPrompt()
    {
        string prompt = Render(Mistral, WithSystem, addGenerationPrompt: false, "<s>", "</s>");
        Assert.Equal(
            "<s> [INST] You are terse.\n" +
            "\n" +
            "Hi there [/INST] Hello!</s> [INST] What is 2+2? [/INST]",
            prompt);
    }

    [Fact]
    public void Mistral_WithoutSystem()
    {
        string prompt = Render(Mistral, WithoutSystem, addGenerationPrompt: true, "<s>", "</s>");
        Assert.Equal(
            "<s> [INST] Hi there [/INST] Hello!</s> [INST] What is 2+2? [/INST]",
            prompt);
    }

    [Fact]
    public void SmolLM2_DefaultSystemPrompt_GenerationPrompt()
    {
        string prompt = Render(SmolLM2, WithoutSystem, addGenerationPrompt: true, null, "<|im_end|>");
        Assert.Equal(
            "<|im_start|>system\n" +
            "You are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n" +
            "<|im_start|>user\n" +
            "Hi there<|im_end|>\n" +
            "<|im_start|>assistant\n" +
            "Hello!<|im_end|>\n" +
            "<|im_start|>user\n" +
            "What is 2+2?<|im_end|>\n" +
            "<|im_start|>assistant\n",
            prompt);
    }

    [Fact]
    public void SmolLM2_DefaultSystemPrompt_NoGenerationPrompt()
    {
        string prompt = Render(SmolLM2, WithoutSystem, addGenerationPrompt: false, null, "<|im_end|>");
        Assert.Equal(
            "<|im_start|>system\n" +
            "You are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n" +
            "<|im_start|>user\n" +
            "Hi there<|im_end|>\n" +
            "<|im_start|>assistant\n" +
            "Hello!<|im_end|>\n" +
            "<|im_start|>user\n" +
            "What is 2+2?<|im_end|>\n",
            prompt);
    }

    [Fact]
    public void SmolLM2_WithSystem()
    {
        string prompt = Render(SmolLM2, WithSystem, addGenerationPrompt: true, null, "<|im_end|>");
        Assert.Equal(
            "<|im_start|>system\n" +
            "You are terse.<|im_end|>\n" +
            "<|im_start|>user\n" +
            "Hi there<|im_end|>\n" +
            "<|im_start|>assistant\n" +
            "Hello!<|im_end|>\n" +
            "<|im_start|>user\n" +
            "What is 2+2?<|im_end|>\n" +
            "<|im_start|>assistant\n",
            prompt);
    }

    [Fact]
    public void Phi3_WithSystem_GenerationPrompt()
    {
        string prompt = Render(Phi3, WithSystem, addGenerationPrompt: true, "<s>", "<|endoftext|>");
        Assert.Equal(
            "<|system|>\n" +
            "You are terse.<|end|>\n" +
            "<|user|>\n" +
            "Hi there<|end|>\n" +
            "<|assistant|>\n" +
            "Hello!<|end|>\n" +
            "<|user|>\n" +
            "What is 2+2?<|end|>\n" +
            "<|assistant|>\n",
            prompt);
    }

    [Fact]
    public void Phi3_WithSystem_NoGenerationPromptEndsWithEos()
    {
        string prompt = Render(Phi3, WithSystem, addGenerationPrompt: false, "<s>", "<|endoftext|>");
        Assert.Equal(
            "<|system|>\n" +
            "You are terse.<|end|>\n" +
            "<|user|>\n" +
            "Hi there<|end|>\n" +
            "<|assistant|>\n" +
            "Hello!<|end|>\n" +
            "<|user|>\n" +
            "What is 2+2?<|end|>\n" +
            "<|endoftext|>",
            prompt);
    }

    [Fact]
    public void Gemma_SystemFoldedIntoFirstUserTurn_GenerationPrompt()
    {
        string prompt = Render(Gemma, WithSystem, addGenerationPrompt: true, "<bos>", "<eos>");
        Assert.Equal(
            "<bos><start_of_turn>user\n" +
            "You are terse.\n" +
            "\n" +
            "Hi there<end_of_turn>\n" +
            "<start_of_turn>model\n" +
            "Hello!<end_of_turn>\n" +
            "<start_of_turn>user\n" +
            "What is 2+2?<end_of_turn>\n" +
            "<start_of_turn>model\n",
            prompt);
    }

    [Fact]
    public void Gemma_SystemFoldedIntoFirstUserTurn_NoGenerationPrompt()
    {
        string prompt = Render(Gemma, WithSystem, addGenerationPrompt: false, "<bos>", "<eos>");
        Assert.Equal(
            "<bos><start_of_turn>user\n" +
            "You are terse.\n" +
            "\n" +
            "Hi there<end_of_turn>\n" +
            "<start_of_turn>model\n" +
            "Hello!<end_of_turn>\n" +
            "<start_of_turn>user\n" +
            "What is 2+2?<end_of_turn>\n",
            prompt);
    }

    [Fact]
    public void Gemma_WithoutSystem()
    {
        string prompt = Render(Gemma, WithoutSystem, addGenerationPrompt: true, "<bos>", "<eos>");
        Assert.Equal(
            "<bos><start_of_turn>user\n" +
            "Hi there<end_of_turn>\n" +
            "<start_of_turn>model\n" +
            "Hello!<end_of_turn>\n" +
            "<start_of_turn>user\n" +
            "What is 2+2?<end_of_turn>\n" +
            "<start_of_turn>model\n",
            prompt);
    }

    [Fact]
    public void Gemma_ContentParts()
    {
        string prompt = Render(Gemma, ContentParts, addGenerationPrompt: true, "<bos>", "<eos>");
        Assert.Equal(
            "<bos><start_of_turn>user\n" +
            "Sys\n" +
            "\n" +
            "part onetwo<end_of_turn>\n" +
            "<start_of_turn>model\n" +
            "ok<end_of_turn>\n" +
            "<start_of_turn>model\n",
            prompt);
    }

    [Fact]
    public void Mistral_RejectsRolesThatDoNotAlternate()
    {
        var e = Rejects(Mistral, NotAlternating);
        Assert.Equal("The chat template rejected the conversation: After an optional system message, roles must alternate user/assistant/user/...", e.Message);
    }

    [Fact]
    public void Mistral_RejectsAToolMessage()
    {
        var e = Rejects(Mistral, [new("user", "a"), new("tool", "b")]);
        Assert.Contains("Only user and assistant roles are supported", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Gemma_RejectsRolesThatDoNotAlternate()
    {
        var e = Rejects(Gemma, [new("assistant", "first")]);
        Assert.Equal("The chat template rejected the conversation: Conversation roles must alternate user/assistant/user/assistant/...", e.Message);
    }

    [Fact]
    public void Llama3_RejectsTwoToolCallsInOneMessage()
    {
        ChatMessage[] messages =
        [
            new("user", "x"),
            new("assistant", "") { Fields = new Dictionary<string, object?> { ["tool_calls"] = Json("""[{"function": {"name": "a", "arguments": {}}}, {"function": {"name": "b", "arguments": {}}}]""") } },
        ];
        var e = Assert.Throws<ChatTemplateException>(() => Render(Llama3, messages, addGenerationPrompt: true, null, null));
        Assert.Equal(ChatTemplateErrorKind.Rejected, e.Kind);
        Assert.EndsWith("Only one tool call per message is supported.", e.Message, StringComparison.Ordinal);
    }
}
