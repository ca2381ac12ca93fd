"""Stories (对话脚本): a conversation script played through the real app with a fake clock.

The format is a public interface (offices write their own); see README "Stories". A story
lists people, chats and steps; acting steps (say, press, send_file, advance, at, restart)
drive the app, `expect`/`expect_none` check what the bot sent since the last acting step.

- `format`: the file's schema and `parse_story`;
- `world`: the people and projects set up before step 1;
- `runner`: playing the steps, checking expectations, the transcript.
"""

from bot.stories.format import PLATFORM, Story, StoryError, parse_story
from bot.stories.runner import StoryFailure, StoryResult, StoryRunner, run_story_file

__all__ = [
    "PLATFORM",
    "Story",
    "StoryError",
    "StoryFailure",
    "StoryResult",
    "StoryRunner",
    "parse_story",
    "run_story_file",
]
