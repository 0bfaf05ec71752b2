// Roomcast's page: the chat over WebSocket (/chat), the live camera (MJPEG), history search
// and the viewers' panel. Plain JavaScript, no build step, nothing loaded from elsewhere.
'use strict';

(() => {
  const $ = (id) => document.getElementById(id);

  // RFC 1459 casemapping, as the server folds nicks and room names.
  const fold = (name) => name.replace(/[A-Z\[\]\\~]/g, (c) => ({ '[': '{', ']': '}', '\\': '|', '~': '^' }[c] || c.toLowerCase()));
  const isRoom = (target) => target.startsWith('#');
  const MAX_ITEMS = 500;
  const NICK_START = 'A-Za-z\\[\\]\\\\`_^{|}';
  const MENTION = new RegExp(`(^|\\s)@([${NICK_START}][${NICK_START}0-9-]*)`, 'g');

  const state = {
    ws: null,
    nick: '',
    password: '',
    registered: false,
    welcomedOnce: false,
    fatal: null,            // why the server is closing the connection
    fatalCode: null,
    nickRetries: 0,         // hellos retried after a reconnect found the nick still taken
    pendingSelect: null,    // a room to show once joined
    reconnectDelay: 1000,
    maxTextBytes: 400,
    conversations: new Map(),   // fold(name) -> conversation
    current: null,
    wantedRooms: [],
    cameras: ['cam'],
    camera: 'cam',
  };

  // ---------------------------------------------------------------- conversations

  function conversation(name, kind) {
    const key = fold(name);
    let conv = state.conversations.get(key);
    if (!conv) {
      conv = { key, name, kind, topic: null, members: new Map(), items: [], unread: 0, mentions: 0, joined: false, noOlder: false };
      state.conversations.set(key, conv);
      renderSidebar();
    }
    return conv;
  }

  const lookup = (name) => (name ? state.conversations.get(fold(name)) : undefined);

  function select(conv) {
    state.current = conv;
    if (conv) { conv.unread = 0; conv.mentions = 0; }
    renderSidebar();
    renderHeader();
    renderMessages();
    renderMembers();
    $('search-results').replaceChildren();
    updateTitle();
    $('say').focus();
  }

  function forget(conv) {
    state.conversations.delete(conv.key);
    if (state.current === conv) {
      const next = [...state.conversations.values()].find((c) => c.kind === 'room') || state.conversations.values().next().value || null;
      select(next);
    } else {
      renderSidebar();
    }
  }

  /** Adds an item (an event or a local note) in time order; ids break ties and drop repeats. */
  function addItem(conv, item) {
    if (item.id && conv.items.some((other) => other.id === item.id)) return;
    let index = conv.items.length;
    while (index > 0 && before(item, conv.items[index - 1])) index--;
    conv.items.splice(index, 0, item);
    if (conv.items.length > MAX_ITEMS) conv.items.splice(0, conv.items.length - MAX_ITEMS);
    if (conv === state.current) {
      if (index === conv.items.length - 1) appendMessage(item); else renderMessages();
    } else if (!item.local && (item.kind === 'message' || item.kind === 'notice')) {
      conv.unread++;
      if (mentionsMe(item) || conv.kind === 'direct') conv.mentions++;
      renderSidebar();
      updateTitle();
    }
  }

  function before(a, b) {
    if (a.ms !== b.ms) return a.ms < b.ms;
    return (a.id || Infinity) < (b.id || Infinity);
  }

  function note(conv, text, cls) {
    if (!conv) return;
    addItem(conv, { local: true, kind: 'note', cls: cls || 'info', text, ms: Date.now() });
  }

  function eventItem(event) {
    return { ...event, ms: Date.parse(event.time) || Date.now() };
  }

  const same = (a, b) => a && b && fold(a) === fold(b);

  function mentionsMe(item) {
    if (!state.nick || !item.room || same(item.sender, state.nick)) return false;
    if (item.recipients && item.recipients.some((n) => same(n, state.nick))) return true;
    return mentionsIn(item.text || '').some((n) => same(n, state.nick));
  }

  function mentionsIn(text) {
    const found = [];
    for (const match of text.matchAll(MENTION)) found.push(match[2].replace(/-+$/, ''));
    return found;
  }

  // ---------------------------------------------------------------- connection

  function connect() {
    if (state.ws) return;
    const url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/chat`;
    const ws = new WebSocket(url);
    state.ws = ws;
    state.fatal = null;
    state.fatalCode = null;
    setStatus('connecting', 'Connecting…');
    ws.addEventListener('open', () => { setStatus('connecting', 'Signing in…'); hello(); });
    ws.addEventListener('message', (e) => {
      let message;
      try { message = JSON.parse(e.data); } catch { return; }
      handle(message);
    });
    ws.addEventListener('close', (event) => {
      if (state.ws !== ws) return;
      state.ws = null;
      // 1009 Message Too Big: the server refused a frame over its limit.
      if (event.code === 1009 && !state.fatal) state.fatal = 'a message was too large for the server';
      const wasRegistered = state.registered;
      state.registered = false;
      for (const conv of state.conversations.values()) conv.joined = false;
      if (!state.welcomedOnce) {
        setStatus('offline', 'Not connected');
        showLogin(state.fatal || (wasRegistered ? '' : 'Could not reach the chat; try again.'));
        return;
      }
      setStatus('offline', state.fatal ? `Disconnected: ${state.fatal}` : 'Disconnected — reconnecting…');
      note(state.current, state.fatal ? `Disconnected: ${state.fatal}` : 'Disconnected from the chat; reconnecting…', 'error');
      if (state.fatalCode === 'password') { showLogin(state.fatal); return; }
      setTimeout(connect, state.reconnectDelay);
      state.reconnectDelay = Math.min(state.reconnectDelay * 2, 30000);
    });
  }

  function send(message) {
    if (state.ws && state.ws.readyState === WebSocket.OPEN) {
      state.ws.send(JSON.stringify(message));
      return true;
    }
    note(state.current, 'Not connected: that was not sent.', 'error');
    return false;
  }

  function hello() {
    const message = { type: 'hello', nick: state.nick };
    if (state.password) message.password = state.password;
    send(message);
  }

  function handle(m) {
    switch (m.type) {
      case 'welcome': return welcome(m);
      case 'joined': return joined(m);
      case 'event': return onEvent(m);
      case 'names': return names(m);
      case 'history': return history(m);
      case 'error': return onError(m);
      default: return undefined;
    }
  }

  function welcome(m) {
    state.registered = true;
    state.welcomedOnce = true;
    state.reconnectDelay = 1000;
    state.nickRetries = 0;
    state.nick = m.nick;
    if (m.maxTextBytes) state.maxTextBytes = m.maxTextBytes;
    try { localStorage.setItem('roomcast.nick', m.nick); } catch { /* private mode */ }
    $('me').textContent = m.nick;
    setStatus('online', 'Connected');
    $('login').hidden = true;
    $('app').hidden = false;
    const rooms = state.wantedRooms.length ? state.wantedRooms : ['#lobby'];
    for (const room of rooms) send({ type: 'join', room });
    refreshRooms();
  }

  function joined(m) {
    const conv = conversation(m.room, 'room');
    conv.name = m.room;
    conv.joined = true;
    conv.topic = m.topic;
    conv.members = new Map((m.members || []).map((n) => [fold(n), n]));
    for (const event of m.recent || []) addItem(conv, eventItem(event));
    if (!state.wantedRooms.some((r) => same(r, m.room))) state.wantedRooms.push(m.room);
    if (!state.current || state.pendingSelect === fold(m.room)) {
      state.pendingSelect = null;
      select(conv);
    } else {
      renderSidebar();
      if (conv === state.current) { renderHeader(); renderMembers(); renderMessages(); }
    }
  }

  function names(m) {
    const conv = lookup(m.room);
    if (!conv) return;
    conv.topic = m.topic;
    conv.members = new Map((m.members || []).map((n) => [fold(n), n]));
    if (conv === state.current) { renderHeader(); renderMembers(); }
  }

  function history(m) {
    const conv = lookup(m.room);
    if (!conv) return;
    const events = m.events || [];
    if (events.length === 0) {
      conv.noOlder = true;
      note(conv, 'No older messages.', 'info');
      return;
    }
    for (const event of events) addItem(conv, eventItem(event));
    if (conv === state.current) renderMessages(true);
  }

  function onEvent(event) {
    const item = eventItem(event);
    const me = state.nick;
    switch (event.kind) {
      case 'message':
      case 'notice': {
        let conv;
        if (event.room) {
          conv = lookup(event.room);
        } else {
          const other = same(event.sender, me) ? event.target : event.sender;
          conv = conversation(other, 'direct');
        }
        if (conv) addItem(conv, item);
        break;
      }
      case 'join': {
        const conv = conversation(event.room, 'room');
        conv.members.set(fold(event.sender), event.sender);
        addItem(conv, { ...item, kind: 'note', text: same(event.sender, me) ? `You joined ${event.room}` : `${event.sender} joined` });
        if (conv === state.current) renderMembers();
        break;
      }
      case 'part': {
        const conv = lookup(event.room);
        if (!conv) break;
        if (same(event.sender, me)) {
          state.wantedRooms = state.wantedRooms.filter((r) => !same(r, event.room));
          forget(conv);
          refreshRooms();
          break;
        }
        conv.members.delete(fold(event.sender));
        addItem(conv, { ...item, kind: 'note', text: `${event.sender} left${event.text ? ` (${event.text})` : ''}` });
        if (conv === state.current) renderMembers();
        break;
      }
      case 'quit': {
        // A quit is relayed once, naming one room: it applies to every room the member was in.
        for (const conv of state.conversations.values()) {
          const inRoom = conv.members.delete(fold(event.sender));
          if (inRoom || (conv.kind === 'direct' && same(conv.name, event.sender))) {
            addItem(conv, { ...item, id: undefined, kind: 'note', text: `${event.sender} quit${event.text ? ` (${event.text})` : ''}` });
          }
        }
        renderMembers();
        break;
      }
      case 'nick': {
        const newNick = event.target;
        if (same(event.sender, me)) {
          state.nick = newNick;
          $('me').textContent = newNick;
          try { localStorage.setItem('roomcast.nick', newNick); } catch { /* private mode */ }
        }
        for (const conv of state.conversations.values()) {
          if (conv.members.delete(fold(event.sender))) {
            conv.members.set(fold(newNick), newNick);
            addItem(conv, { ...item, id: undefined, kind: 'note', text: `${event.sender} is now known as ${newNick}` });
          }
        }
        renderMembers();
        break;
      }
      case 'topic': {
        const conv = lookup(event.room);
        if (!conv) break;
        conv.topic = event.text || null;
        addItem(conv, { ...item, kind: 'note', text: event.text ? `${event.sender} set the topic: ${event.text}` : `${event.sender} cleared the topic` });
        if (conv === state.current) renderHeader();
        break;
      }
      default:
        break;
    }
  }

  function onError(m) {
    const message = m.message || m.code || 'Error';
    if (m.code === 'flood' || m.code === 'sendq_exceeded' || (m.code === 'password' && state.registered)) {
      state.fatal = message;
      state.fatalCode = m.code;
    }
    if (!state.registered) {
      // Back after a drop, the old connection may still hold the nick for a moment.
      if (m.code === 'nick_in_use' && state.welcomedOnce && state.nickRetries < 5) {
        state.nickRetries++;
        setStatus('connecting', `Waiting for ${state.nick} to be free…`);
        setTimeout(hello, 3000);
        return;
      }
      if (m.code === 'password' && /Bad password/.test(message)) { state.fatal = message; state.fatalCode = 'password'; }
      setStatus('offline', 'Not signed in');
      showLogin(message);
      if (m.code === 'password') $('password').focus();
      return;
    }
    if (m.room && !lookup(m.room) && (m.code === 'no_such_room' || m.code === 'invalid_room' || m.code === 'too_many_rooms')) {
      state.wantedRooms = state.wantedRooms.filter((r) => !same(r, m.room));
    }
    note(lookup(m.room) || state.current, message, 'error');
  }

  // ---------------------------------------------------------------- input

  function submitSay(event) {
    event.preventDefault();
    hideCompletions();
    const input = $('say');
    const text = input.value.trim();
    if (!text) return;
    if (text.startsWith('/') && !text.startsWith('//')) {
      if (command(text)) input.value = '';
      return;
    }
    const conv = state.current;
    if (!conv) { note(null, 'Join a room first.', 'error'); return; }
    const body = text.startsWith('//') ? text.slice(1) : text;
    const bytes = new TextEncoder().encode(body).length;
    if (bytes > state.maxTextBytes) {
      note(conv, `That message is ${bytes} bytes; the most is ${state.maxTextBytes}. Split it up.`, 'error');
      return;
    }
    if (send({ type: 'say', target: conv.name, text: body })) input.value = '';
  }

  /** /join #room, /part [reason], /msg nick text, /topic text, /nick name, /help. */
  function command(text) {
    const [verb, ...rest] = text.slice(1).split(' ');
    const args = rest.join(' ').trim();
    const conv = state.current;
    switch (verb.toLowerCase()) {
      case 'join':
        if (!args) return false;
        joinRoom(args.split(' ')[0]);
        return true;
      case 'part':
      case 'leave':
        if (conv && conv.kind === 'room') send({ type: 'part', room: conv.name, reason: args || undefined });
        else if (conv) forget(conv);
        return true;
      case 'msg': {
        const [nick, ...words] = args.split(' ');
        if (!nick || words.length === 0) return false;
        const target = conversation(nick, isRoom(nick) ? 'room' : 'direct');
        send({ type: 'say', target: nick, text: words.join(' ') });
        if (!isRoom(nick)) select(target);
        return true;
      }
      case 'topic':
        if (conv && conv.kind === 'room') send({ type: 'topic', room: conv.name, text: args });
        return true;
      case 'nick':
        if (args) send({ type: 'nick', nick: args });
        return true;
      default:
        note(conv, 'Commands: /join #room, /part [reason], /msg nick text, /topic text, /nick name. Start a message with @nick to send it only to them.', 'info');
        return true;
    }
  }

  function joinRoom(name) {
    let room = name.trim();
    if (!room) return;
    if (!isRoom(room)) room = `#${room}`;
    const conv = lookup(room);
    if (conv && conv.joined) { select(conv); return; }
    state.pendingSelect = fold(room);
    send({ type: 'join', room });
  }

  // @ completion: the word before the caret, if it starts with @, completes to a member's nick.
  const completion = { items: [], index: 0, start: 0, end: 0 };

  function mentionAtCaret() {
    const input = $('say');
    const caret = input.selectionStart ?? input.value.length;
    const head = input.value.slice(0, caret);
    const match = /(^|\s)@([^\s@]*)$/.exec(head);
    if (!match) return null;
    return { prefix: match[2], start: caret - match[2].length - 1, end: caret };
  }

  function updateCompletions() {
    const conv = state.current;
    const at = mentionAtCaret();
    if (!at || !conv) { hideCompletions(); return; }
    const prefix = fold(at.prefix);
    const nicks = [...conv.members.values()]
      .filter((n) => !same(n, state.nick) && fold(n).startsWith(prefix))
      .sort((a, b) => fold(a).localeCompare(fold(b)))
      .slice(0, 8);
    if (nicks.length === 0) { hideCompletions(); return; }
    completion.items = nicks;
    completion.index = Math.min(completion.index, nicks.length - 1);
    completion.start = at.start;
    completion.end = at.end;
    const list = $('completions');
    list.replaceChildren(...nicks.map((n, i) => {
      const li = document.createElement('li');
      li.textContent = `@${n}`;
      li.setAttribute('role', 'option');
      li.dataset.nick = n;
      if (i === completion.index) { li.classList.add('selected'); li.setAttribute('aria-selected', 'true'); }
      li.addEventListener('mousedown', (e) => { e.preventDefault(); acceptCompletion(n); });
      return li;
    }));
    list.hidden = false;
  }

  function hideCompletions() {
    $('completions').hidden = true;
    completion.items = [];
    completion.index = 0;
  }

  function acceptCompletion(nick) {
    const input = $('say');
    const value = input.value;
    const after = value.slice(completion.end).replace(/^\S*/, '');
    const inserted = `@${nick}${after.startsWith(' ') ? '' : ' '}`;
    input.value = value.slice(0, completion.start) + inserted + after;
    const caret = completion.start + inserted.length + (after.startsWith(' ') ? 1 : 0);
    input.setSelectionRange(caret, caret);
    hideCompletions();
    input.focus();
  }

  function sayKeydown(e) {
    const open = !$('completions').hidden && completion.items.length > 0;
    if (e.key === 'Tab') {
      if (!open) updateCompletions();
      if (completion.items.length > 0) {
        e.preventDefault();
        acceptCompletion(completion.items[completion.index]);
      }
      return;
    }
    if (!open) return;
    if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
      e.preventDefault();
      const n = completion.items.length;
      completion.index = (completion.index + (e.key === 'ArrowDown' ? 1 : n - 1)) % n;
      updateCompletions();
    } else if (e.key === 'Enter') {
      e.preventDefault();
      acceptCompletion(completion.items[completion.index]);
    } else if (e.key === 'Escape') {
      e.preventDefault();
      hideCompletions();
    }
  }

  // ---------------------------------------------------------------- rendering

  function setStatus(kind, text) {
    const status = $('status');
    status.dataset.state = kind;
    status.textContent = text;
  }

  function showLogin(error) {
    $('login').hidden = false;
    $('app').hidden = true;
    $('login-error').textContent = error || '';
    $('login-button').disabled = false;
  }

  function updateTitle() {
    let mentions = 0;
    for (const conv of state.conversations.values()) mentions += conv.mentions;
    document.title = mentions > 0 ? `(${mentions}) Roomcast` : 'Roomcast';
  }

  function renderSidebar() {
    const rooms = [];
    const directs = [];
    const sorted = [...state.conversations.values()].sort((a, b) => a.key.localeCompare(b.key));
    for (const conv of sorted) {
      const li = document.createElement('li');
      const button = document.createElement('button');
      button.type = 'button';
      button.className = 'room';
      button.textContent = conv.name;
      button.dataset.room = conv.name;
      if (conv === state.current) button.classList.add('current');
      if (conv.unread > 0) {
        const badge = document.createElement('span');
        badge.className = conv.mentions > 0 ? 'badge mention' : 'badge';
        badge.textContent = String(conv.unread);
        button.append(badge);
      }
      button.addEventListener('click', () => select(conv));
      li.append(button);
      (conv.kind === 'room' ? rooms : directs).push(li);
    }
    $('rooms').replaceChildren(...rooms);
    $('directs').replaceChildren(...directs);
    $('directs').previousElementSibling.hidden = directs.length === 0;
  }

  function renderHeader() {
    const conv = state.current;
    $('room-name').textContent = conv ? conv.name : '—';
    $('room-topic').textContent = conv && conv.topic ? conv.topic : '';
    $('leave').hidden = !conv;
    $('older').hidden = !conv;
    $('say').placeholder = conv && conv.kind === 'direct'
      ? `Message ${conv.name} directly`
      : 'Message — start with @nick to send it only to them';
  }

  function renderMembers() {
    const conv = state.current;
    const list = $('members');
    if (!conv || conv.kind !== 'room') {
      list.replaceChildren();
      $('member-count').textContent = '';
      return;
    }
    const nicks = [...conv.members.values()].sort((a, b) => fold(a).localeCompare(fold(b)));
    $('member-count').textContent = String(nicks.length);
    list.replaceChildren(...nicks.map((n) => {
      const li = document.createElement('li');
      li.className = 'member';
      li.dataset.nick = n;
      const name = document.createElement('button');
      name.type = 'button';
      name.className = 'link nick';
      name.textContent = n;
      name.title = `Mention ${n}`;
      if (same(n, state.nick)) {
        li.classList.add('self');
        name.disabled = true;
        name.title = 'You';
      }
      name.addEventListener('click', () => insertMention(n));
      li.append(name);
      if (!same(n, state.nick)) {
        const direct = document.createElement('button');
        direct.type = 'button';
        direct.className = 'link dm';
        direct.textContent = '✉';
        direct.title = `Message ${n} directly`;
        direct.setAttribute('aria-label', `Message ${n} directly`);
        direct.addEventListener('click', () => select(conversation(n, 'direct')));
        li.append(direct);
      }
      return li;
    }));
  }

  function insertMention(nick) {
    const input = $('say');
    const prefix = input.value && !input.value.endsWith(' ') ? `${input.value} ` : input.value;
    input.value = `${prefix}@${nick} `;
    input.focus();
  }

  function renderMessages(keepTop) {
    const list = $('messages');
    const conv = state.current;
    const oldHeight = list.scrollHeight;
    const oldTop = list.scrollTop;
    list.replaceChildren(...(conv ? conv.items.map(messageElement) : []));
    if (keepTop) list.scrollTop = list.scrollHeight - oldHeight + oldTop;
    else list.scrollTop = list.scrollHeight;
  }

  function appendMessage(item) {
    const list = $('messages');
    const nearBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 80;
    list.append(messageElement(item));
    while (list.childElementCount > MAX_ITEMS) list.firstElementChild.remove();
    if (nearBottom || same(item.sender, state.nick)) list.scrollTop = list.scrollHeight;
  }

  function messageElement(item) {
    const li = document.createElement('li');
    const time = document.createElement('time');
    const date = new Date(item.ms);
    time.dateTime = date.toISOString();
    time.title = date.toLocaleString();
    time.textContent = date.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
    li.append(time);
    if (item.id) li.dataset.id = String(item.id);
    if (item.kind === 'note') {
      li.className = `note ${item.cls || ''}`.trim();
      const text = document.createElement('span');
      text.className = 'text';
      text.textContent = item.text;
      li.append(text);
      return li;
    }
    li.className = 'msg';
    if (item.kind === 'notice') li.classList.add('notice');
    if (same(item.sender, state.nick)) li.classList.add('own');
    if (mentionsMe(item)) li.classList.add('mention');
    const sender = document.createElement('span');
    sender.className = 'sender';
    sender.textContent = item.sender;
    li.append(sender);
    const text = document.createElement('span');
    text.className = 'text';
    if (item.room && item.recipients) {
      li.classList.add('directed');
      const to = document.createElement('span');
      to.className = 'to';
      to.textContent = `to ${item.recipients.join(', ')}`;
      to.title = 'Only these members were sent this message';
      text.append(to);
    }
    appendRichText(text, item.text || '');
    li.append(text);
    return li;
  }

  /** Text with @mentions marked and web links clickable; never parsed as HTML. */
  function appendRichText(parent, text) {
    const pattern = new RegExp(`(https?://[^\\s<>"]+)|((?:^|(?<=\\s))@[${NICK_START}][${NICK_START}0-9-]*)`, 'g');
    let last = 0;
    for (const match of text.matchAll(pattern)) {
      if (match.index > last) parent.append(text.slice(last, match.index));
      if (match[1]) {
        const a = document.createElement('a');
        a.href = match[1];
        a.textContent = match[1];
        a.target = '_blank';
        a.rel = 'noopener noreferrer';
        if (isSharedFile(match[1])) {
          // The server names the file (Content-Disposition); the attribute makes it a download.
          a.setAttribute('download', '');
          a.classList.add('file-link');
        }
        parent.append(a);
      } else {
        const span = document.createElement('span');
        span.className = same(match[2].slice(1), state.nick) ? 'at me' : 'at';
        span.textContent = match[2];
        parent.append(span);
      }
      last = match.index + match[0].length;
    }
    if (last < text.length) parent.append(text.slice(last));
  }

  /** Whether a link is a file shared through this server (same origin, /files/ID…). */
  function isSharedFile(href) {
    try {
      const url = new URL(href);
      return url.origin === location.origin && /^\/files\/[0-9a-f]{32}(\/|$)/.test(url.pathname);
    } catch {
      return false;
    }
  }

  // ---------------------------------------------------------------- file sharing

  // The server stores the file and answers with the chat line that shares it; the page says
  // that line like any message, so the chat routes it: to the room, or only to the @nicks the
  // message box starts with (or to the other side of a direct conversation).
  const uploads = { maxBytes: null, enabled: true, statusTimer: null };

  function describeSize(bytes) {
    if (bytes < 1024) return bytes === 1 ? '1 byte' : `${bytes} bytes`;
    let value = bytes / 1024;
    let unit = 'KB';
    for (const next of ['MB', 'GB', 'TB']) {
      if (value < 1024) break;
      value /= 1024;
      unit = next;
    }
    if (value < 10) {
      const tenths = Math.round(value * 10);
      return tenths % 10 ? `${Math.floor(tenths / 10)}.${tenths % 10} ${unit}` : `${tenths / 10} ${unit}`;
    }
    return `${Math.round(value)} ${unit}`;
  }

  async function loadUploadLimits() {
    try {
      const limits = await getJSON('/api/files/limits');
      uploads.enabled = limits.enabled !== false;
      if (typeof limits.maxUploadBytes === 'number') uploads.maxBytes = limits.maxUploadBytes;
    } catch { /* the server checks every upload anyway */ }
    $('share-file').hidden = !uploads.enabled;
  }

  function showUpload(text, cls) {
    const status = $('upload-status');
    clearTimeout(uploads.statusTimer);
    status.textContent = text;
    status.className = `upload-status ${cls}`;
    status.hidden = false;
    if (cls === 'ok') uploads.statusTimer = setTimeout(() => { status.hidden = true; }, 8000);
  }

  /** The @nicks a message starts with, and the text after them. */
  function leadingMentions(text) {
    const pattern = new RegExp(`^@([${NICK_START}][${NICK_START}0-9-]*)[,:]?(\\s+|$)`);
    const nicks = [];
    let rest = text.trimStart();
    for (let match = pattern.exec(rest); match; match = pattern.exec(rest)) {
      nicks.push(match[1].replace(/-+$/, ''));
      rest = rest.slice(match[0].length);
    }
    return { nicks, rest };
  }

  function shareFile(file) {
    const conv = state.current;
    if (!conv || !state.registered) { showUpload('Join a room first.', 'error'); return; }
    const input = $('say');
    const leading = conv.kind === 'direct' ? { nicks: [conv.name], rest: input.value } : leadingMentions(input.value);
    const recipients = leading.nicks;
    if (uploads.maxBytes !== null && file.size > uploads.maxBytes) {
      showUpload(`${file.name}: the file is larger than the ${describeSize(uploads.maxBytes)} upload limit`, 'error');
      return;
    }
    let url = `/api/files?name=${encodeURIComponent(file.name)}`;
    if (recipients.length > 0) url += `&to=${encodeURIComponent(recipients.join(','))}`;
    const xhr = new XMLHttpRequest();
    xhr.open('POST', url);
    if (state.password) xhr.setRequestHeader('Authorization', `Bearer ${state.password}`);
    xhr.upload.addEventListener('progress', (e) => {
      if (e.lengthComputable && e.total > 0) showUpload(`Uploading ${file.name}… ${Math.floor((e.loaded * 100) / e.total)}%`, 'info');
    });
    xhr.addEventListener('load', () => {
      let body = null;
      try { body = JSON.parse(xhr.responseText); } catch { /* not JSON */ }
      if (xhr.status !== 201 || !body || typeof body.message !== 'string') {
        showUpload(`${file.name}: ${(body && body.error) || `the upload failed (HTTP ${xhr.status})`}`, 'error');
        return;
      }
      if (!send({ type: 'say', target: conv.name, text: body.message })) {
        showUpload(`${file.name} was stored but not shared: not connected.`, 'error');
        return;
      }
      const to = recipients.length > 0 ? ` with ${recipients.join(', ')}` : '';
      showUpload(`Shared ${body.name} (${describeSize(body.size)})${to}.`, 'ok');
      // The @nicks that chose the recipients have done their job.
      if (conv.kind !== 'direct' && recipients.length > 0 && input.value === leading.original) input.value = leading.rest;
    });
    xhr.addEventListener('error', () => showUpload(`${file.name}: the upload failed (the server could not be reached)`, 'error'));
    leading.original = input.value;
    showUpload(`Uploading ${file.name}…`, 'info');
    xhr.send(file);
  }

  // ---------------------------------------------------------------- HTTP panels (the JSON API)

  async function getJSON(path) {
    const response = await fetch(path, { headers: { Accept: 'application/json' }, cache: 'no-store' });
    if (!response.ok) {
      let why = `${response.status}`;
      try { const body = await response.json(); if (body && body.error) why = body.error; } catch { /* not JSON */ }
      throw new Error(why);
    }
    return response.json();
  }

  const listOf = (value, key) => (Array.isArray(value) ? value : (value && Array.isArray(value[key]) ? value[key] : []));

  async function refreshRooms() {
    let rooms = [];
    try { rooms = listOf(await getJSON('/api/rooms'), 'rooms'); } catch { /* the list is a convenience */ }
    const items = rooms
      .map((r) => (typeof r === 'string' ? { name: r } : r))
      .filter((r) => r && r.name && !(lookup(r.name) && lookup(r.name).joined))
      .map((r) => {
        const li = document.createElement('li');
        const button = document.createElement('button');
        button.type = 'button';
        button.className = 'room';
        button.textContent = r.name;
        const count = typeof r.members === 'number' ? r.members : r.memberCount;
        if (typeof count === 'number') {
          const badge = document.createElement('span');
          badge.className = 'count';
          badge.textContent = String(count);
          button.append(badge);
        }
        if (r.topic) button.title = r.topic;
        button.addEventListener('click', () => joinRoom(r.name));
        li.append(button);
        return li;
      });
    $('other-rooms').replaceChildren(...items);
    $('other-rooms').previousElementSibling.hidden = items.length === 0;
  }

  async function searchHistory(event) {
    event.preventDefault();
    const conv = state.current;
    const q = $('search').value.trim();
    const results = $('search-results');
    if (!conv || conv.kind !== 'room' || !q) { results.replaceChildren(); return; }
    const params = new URLSearchParams({ room: conv.name, q, limit: '50' });
    let events;
    try {
      events = listOf(await getJSON(`/api/history?${params}`), 'events');
    } catch (error) {
      results.replaceChildren(line(`Search is not available: ${error.message}`, 'error'));
      return;
    }
    const found = events.filter((e) => e && (e.kind === undefined || e.kind === 'message' || e.kind === 'notice'));
    if (found.length === 0) { results.replaceChildren(line(`Nothing in ${conv.name} matches “${q}”.`, 'info')); return; }
    results.replaceChildren(...found.slice(-50).reverse().map((e) => {
      const li = document.createElement('li');
      li.className = 'result';
      const when = document.createElement('time');
      const ms = typeof e.time === 'number' ? e.time : Date.parse(e.time);
      when.textContent = Number.isFinite(ms) ? new Date(ms).toLocaleString([], { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' }) : '';
      const who = document.createElement('span');
      who.className = 'sender';
      who.textContent = e.sender || '';
      const text = document.createElement('span');
      text.className = 'text';
      text.textContent = e.text || '';
      li.append(when, who, text);
      return li;
    }));
  }

  function line(text, cls) {
    const li = document.createElement('li');
    li.className = cls;
    li.textContent = text;
    return li;
  }

  async function refreshViewers() {
    if (!$('viewers-panel').open) return;
    try {
      const viewers = listOf(await getJSON('/api/viewers'), 'viewers');
      $('viewers').replaceChildren(...(viewers.length ? viewers.map((v) => line(describeViewer(v), 'viewer')) : [line('Nobody is watching.', 'info')]));
    } catch (error) {
      $('viewers').replaceChildren(line(`Unavailable: ${error.message}`, 'error'));
    }
    try {
      const entries = listOf(await getJSON('/api/log?limit=20'), 'entries');
      $('access-log').replaceChildren(...(entries.length ? entries.slice(-20).reverse().map((e) => line(describeLogEntry(e), `entry ${e.event || ''}`)) : [line('The log is empty.', 'info')]));
    } catch (error) {
      $('access-log').replaceChildren(line(`Unavailable: ${error.message}`, 'error'));
    }
  }

  function shortTime(value) {
    const ms = typeof value === 'number' ? value : Date.parse(value);
    return Number.isFinite(ms) ? new Date(ms).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit' }) : '';
  }

  function describeViewer(v) {
    if (typeof v !== 'object' || v === null) return String(v);
    const parts = [v.camera, v.transport, v.client].filter(Boolean);
    if (v.since) parts.push(`since ${shortTime(v.since)}`);
    if (typeof v.frames === 'number') parts.push(`${v.frames} frames`);
    return parts.length ? parts.join(' · ') : JSON.stringify(v);
  }

  function describeLogEntry(e) {
    if (typeof e !== 'object' || e === null) return String(e);
    const parts = [shortTime(e.time), e.event, e.camera, e.transport, e.client].filter(Boolean);
    if (e.reason) parts.push(e.reason);
    if (typeof e.duration_s === 'number') parts.push(`${e.duration_s.toFixed(1)} s`);
    return parts.length ? parts.join(' · ') : JSON.stringify(e);
  }

  // ---------------------------------------------------------------- camera

  let cameraRetry = null;

  function showCamera(name) {
    state.camera = name;
    const img = $('camera');
    $('camera-offline').hidden = true;
    img.hidden = false;
    // A fresh URL each time, so a retry really opens a new stream.
    img.src = `/cameras/${encodeURIComponent(name)}.mjpeg?t=${Date.now()}`;
    $('snapshot').href = `/cameras/${encodeURIComponent(name)}.jpg`;
  }

  function cameraFailed() {
    $('camera').hidden = true;
    $('camera-offline').hidden = false;
    clearTimeout(cameraRetry);
    cameraRetry = setTimeout(() => showCamera(state.camera), 5000);
  }

  function loadCameras() {
    // The server lists its cameras; with more than one, a picker appears. Until the list
    // arrives (or if it cannot be had), the page shows `cam`, `roomcast serve`'s default.
    fetch('/api/cameras')
      .then((response) => (response.ok ? response.json() : []))
      .then((cameras) => {
        const names = Array.isArray(cameras) ? cameras.map((camera) => camera.name).filter(Boolean) : [];
        if (names.length > 0) {
          state.cameras = names;
          showCameraList();
        }
      })
      .catch(() => {});
    showCameraList();
  }

  function showCameraList() {
    const select = $('camera-select');
    select.replaceChildren(...state.cameras.map((name) => {
      const option = document.createElement('option');
      option.value = name;
      option.textContent = name;
      return option;
    }));
    select.hidden = state.cameras.length < 2;
    showCamera(state.cameras.includes(state.camera) ? state.camera : state.cameras[0]);
  }

  // ---------------------------------------------------------------- start

  function start() {
    try { $('nick').value = localStorage.getItem('roomcast.nick') || ''; } catch { /* private mode */ }
    $('login-form').addEventListener('submit', (e) => {
      e.preventDefault();
      const nick = $('nick').value.trim();
      if (!nick) return;
      state.nick = nick;
      state.password = $('password').value;
      state.fatal = null;
      state.fatalCode = null;
      $('login-error').textContent = '';
      if (state.ws && state.ws.readyState === WebSocket.OPEN) hello(); else connect();
    });
    $('say-form').addEventListener('submit', submitSay);
    $('share-file').addEventListener('click', () => $('file-input').click());
    $('file-input').addEventListener('change', (e) => {
      const input = e.target;
      for (const file of input.files) shareFile(file);
      input.value = '';   // the same file can be chosen again
    });
    $('say').addEventListener('keydown', sayKeydown);
    $('say').addEventListener('input', updateCompletions);
    $('say').addEventListener('click', updateCompletions);
    $('say').addEventListener('blur', () => setTimeout(hideCompletions, 100));
    $('join-form').addEventListener('submit', (e) => {
      e.preventDefault();
      joinRoom($('join-room').value);
      $('join-room').value = '';
    });
    $('leave').addEventListener('click', () => command('/part'));
    $('older').addEventListener('click', () => {
      const conv = state.current;
      if (!conv || conv.noOlder) return;
      const oldest = conv.items.find((i) => i.id);
      const message = { type: 'history', room: conv.name, limit: 50 };
      if (oldest) message.before = new Date(oldest.ms).toISOString();
      send(message);
    });
    $('search-form').addEventListener('submit', searchHistory);
    $('viewers-panel').addEventListener('toggle', refreshViewers);
    $('camera').addEventListener('error', cameraFailed);
    $('camera-select').addEventListener('change', (e) => showCamera(e.target.value));
    setInterval(refreshViewers, 5000);
    setInterval(() => { if (state.registered) refreshRooms(); }, 15000);
    renderHeader();
    loadCameras();
    loadUploadLimits();
  }

  start();
})();
