/**
 * Lessons and their quizzes, for any member of staff to read and practise. Practice only: the
 * answers stay in the browser (a lesson counts towards someone's record when it follows a
 * simulation, on the pages the message's link leads to).
 */
import { useState } from 'react';
import { AwarenessLessons, type AwarenessLessons as LessonsT } from '../../../src/api/index.js';
import { get } from '../api';
import { Link } from '../router';
import { ErrorNote, Heads, Loading, useLoad } from '../ui';

export function Lessons({ lessonId }: { lessonId?: string }) {
  const lessons = useLoad(() => get(AwarenessLessons, '/api/awareness/lessons'), []);
  const lesson = lessonId ? lessons.data?.find((l) => l.id === lessonId) : undefined;
  if (lessonId && lessons.data && !lesson)
    return (
      <section>
        <h1>No such lesson</h1>
        <p>
          <Link to="/awareness/lessons">All lessons</Link>
        </p>
      </section>
    );
  if (lesson) return <LessonView lesson={lesson} />;
  return (
    <section>
      <h1>Lessons</h1>
      <p>Short lessons on spotting phishing, each with three questions to practise on. Your answers are not recorded.</p>
      <ErrorNote error={lessons.error} />
      <Loading when={lessons.loading} />
      {lessons.data ? (
        <table>
          <Heads cols={['Lesson', 'Reading time', 'Part of the course']} />
          <tbody>
            {lessons.data.map((l) => (
              <tr key={l.id}>
                <td>
                  <Link to={`/awareness/lessons/${l.id}`}>{l.title}</Link>
                </td>
                <td>{l.minutes} min</td>
                <td>{l.course ? 'Yes' : 'No'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
    </section>
  );
}

function LessonView({ lesson }: { lesson: LessonsT[number] }) {
  const [answers, setAnswers] = useState<Array<number | undefined>>(lesson.quiz.map(() => undefined));
  const [checked, setChecked] = useState(false);
  const right = lesson.quiz.filter((q, i) => answers[i] === q.answer).length;
  return (
    <section className="lesson">
      <p>
        <Link to="/awareness/lessons">All lessons</Link>
      </p>
      <h1>{lesson.title}</h1>
      <p className="muted">
        {lesson.minutes} min{lesson.course ? ' · part of the course' : ''}
      </p>
      {/* Lessons are plain HTML fragments shipped with Carewall, checked against an allowlist of text elements (validateLesson). */}
      <div className="card" dangerouslySetInnerHTML={{ __html: lesson.html }} />
      <form
        className="card"
        aria-labelledby="quiz"
        onSubmit={(e) => {
          e.preventDefault();
          setChecked(true);
        }}
      >
        <h2 id="quiz">Quiz</h2>
        {lesson.quiz.map((q, i) => (
          <fieldset key={i}>
            <legend>
              {i + 1}. {q.question}
            </legend>
            {q.choices.map((c, j) => (
              <label key={j} className="check">
                <input
                  type="radio"
                  name={`q${i}`}
                  checked={answers[i] === j}
                  onChange={() => {
                    setChecked(false);
                    setAnswers(answers.map((a, k) => (k === i ? j : a)));
                  }}
                />{' '}
                {c}
              </label>
            ))}
            {checked ? (
              <p className={answers[i] === q.answer ? 'right' : 'error'}>
                {answers[i] === q.answer ? 'Right. ' : `Not quite: the answer is “${q.choices[q.answer]}”. `}
                {q.why}
              </p>
            ) : null}
          </fieldset>
        ))}
        <button type="submit" className="primary" disabled={answers.some((a) => a === undefined)}>
          Check my answers
        </button>
        {checked ? (
          <p role="status">
            {right === lesson.quiz.length ? `All ${right} right: you passed.` : `${right} of ${lesson.quiz.length} right: read the whys above and try again.`}
          </p>
        ) : null}
      </form>
    </section>
  );
}
